//! Writing files so that a reader never sees half of one: temporary file, fsync, rename, fsync
//! of the directory.

use std::io::Write;
use std::path::Path;

/// Write `bytes` to `dir/name` atomically.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}
