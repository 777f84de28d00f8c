//! Fingerprints: lower-case hex SHA-256, the one hash the engine writes (policy fingerprints,
//! file manifests, the audit chain, registry imports). A leaf module, so that both the audit log
//! and storage can use it without importing each other.

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The registry fingerprint before any import: SHA-256 of nothing. Each import that writes a row
/// moves it on (`store::imports`).
pub const EMPTY_REGISTRY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// SHA-256 over the CSV files of a folder, names and bytes, in file-name order: the fingerprint an
/// import of registry files records.
pub fn csv_folder_sha256(dir: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    names.sort();
    let mut h = sha2::Sha256::new();
    for path in names {
        h.update(path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().as_bytes());
        let mut f = std::fs::File::open(&path)?;
        std::io::copy(&mut f, &mut h)?;
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_registry_is_the_hash_of_nothing() {
        assert_eq!(sha256_hex(b""), EMPTY_REGISTRY);
    }
}
