//! Writing files so that a reader never sees half of one: temporary file, fsync, rename, fsync
//! of the directory. Temporary names carry the process id and a counter, so two exports into one
//! folder never write into each other's temporary files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of files that carry ID or account numbers: owner and group read, nobody else.
pub const PRIVATE_MODE: u32 = 0o640;
/// Mode of the other files (subject to the umask, as usual).
pub const PUBLIC_MODE: u32 = 0o644;

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file that could not be written, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file (or folder) that failed.
    pub path: PathBuf,
    /// What the system said.
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError { path: path.to_path_buf(), source }
}

/// Create a new temporary file for `name` in `dir` with `mode`, write `bytes` and fsync it.
fn write_temp(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<PathBuf, WriteError> {
    loop {
        let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), TEMP_SEQ.fetch_add(1, Ordering::Relaxed)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = match options.open(&tmp) {
            // Left behind by a crashed process that had the same id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            other => other.map_err(err(&dir.join(name)))?,
        };
        let written = f.write_all(bytes).and_then(|_| f.sync_all());
        if let Err(e) = written {
            std::fs::remove_file(&tmp).ok();
            return Err(err(&dir.join(name))(e));
        }
        return Ok(tmp);
    }
}

/// Write `bytes` to `dir/name` atomically (mode 0644 before the umask).
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    write_all_atomically(dir, &[(name, bytes, PUBLIC_MODE)]).map_err(|e| e.source)
}

/// Write several files into `dir` (created if missing), all or none as far as the file system
/// allows: [`stage`] them, then [`Staged::publish`].
pub fn write_all_atomically(dir: &Path, files: &[(&str, &[u8], u32)]) -> Result<(), WriteError> {
    stage(dir, files)?.publish()
}

/// Files written and fsynced under temporary names in their folder, not yet in place. Dropped
/// without [`Staged::publish`], they are removed and the folder is as it was.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    temps: Vec<(PathBuf, PathBuf)>,
}

/// Write every file to a temporary file in `dir` (created if missing) and fsync it. A failure
/// removes the temporary files written so far.
pub fn stage(dir: &Path, files: &[(&str, &[u8], u32)]) -> Result<Staged, WriteError> {
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let mut staged = Staged { dir: dir.to_path_buf(), temps: Vec::new() };
    for (name, bytes, mode) in files {
        // On error `staged` is dropped, which removes what it holds.
        let tmp = write_temp(dir, name, bytes, *mode)?;
        staged.temps.push((tmp, dir.join(name)));
    }
    Ok(staged)
}

impl Staged {
    /// Rename every file into place, then fsync the folder.
    pub fn publish(mut self) -> Result<(), WriteError> {
        let temps = std::mem::take(&mut self.temps);
        for (i, (tmp, path)) in temps.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, path) {
                for (tmp, _) in &temps[i..] {
                    std::fs::remove_file(tmp).ok();
                }
                return Err(err(path)(e));
            }
        }
        std::fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(err(&self.dir))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.temps {
            std::fs::remove_file(tmp).ok();
        }
    }
}
