//! Fingerprints: lower-case hex SHA-256, the one hash the engine writes (policy fingerprints,
//! file manifests, the audit chain). A leaf module, so that both the audit log and storage can
//! use it without importing each other.

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
