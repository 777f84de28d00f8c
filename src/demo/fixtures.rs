//! The demo's fixtures (`fixtures/demo/`), compiled into the binary so that `subsidy demo` runs
//! from any folder with the binary alone (issue 13). The demo writes them into a temporary folder
//! and imports from there through the same use-cases as `subsidy import`. The list is explicit; a
//! unit test checks that it names every file of `fixtures/demo/` (but its README).

use std::path::Path;

/// `(path below fixtures/demo, contents)` for each of the given paths.
macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../fixtures/demo/", $path)))),*]
    };
}

/// Every file the demo reads, by its path below `fixtures/demo/`.
pub(super) const FILES: &[(&str, &str)] = embedded![
    "allocations.toml",
    "registry/applications.csv",
    "registry/assessments.csv",
    "registry/disability_certs.csv",
    "registry/elders.csv",
    "registry/exclusions.csv",
    "registry/household_status.csv",
    "registry/suspensions.csv",
    "corrections/2020-06-new-account-and-death/elders.csv",
    "corrections/2020-08-late-death/elders.csv",
    "corrections/2020-09-grade-lowered/disability_certs.csv",
    "platform/2020-04.csv",
];

/// Write the embedded fixtures into `dir`, laid out as `fixtures/demo/` is.
pub(super) fn unpack(dir: &Path) -> std::io::Result<()> {
    for (path, text) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(file, text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files_below(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read fixtures/demo") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files_below(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below the root");
                out.push(rel.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>().join("/"));
            }
        }
    }

    /// A file added to `fixtures/demo/` must be added to [`FILES`], or the binary's demo would
    /// not see it.
    #[test]
    fn every_file_of_the_demo_fixtures_is_embedded() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let mut on_disk = Vec::new();
        files_below(&root, &root, &mut on_disk);
        on_disk.retain(|f| f != "README.md");
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    /// Unpacked, the files are byte for byte those of the repository.
    #[test]
    fn unpacked_files_equal_the_repository_s() {
        let dir = tempfile::tempdir().expect("temporary folder");
        unpack(dir.path()).expect("unpack");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        for (path, _) in FILES {
            let ours = std::fs::read(dir.path().join(path)).expect("unpacked");
            assert_eq!(ours, std::fs::read(root.join(path)).expect("repository's"), "{path}");
        }
    }
}
