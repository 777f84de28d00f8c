//! Writing files so that a reader never sees half of one: temporary file (written as it comes,
//! through a buffer), fsync, rename, fsync of the directory. Temporary names carry the process id
//! and a counter, so two exports into one folder never write into each other's temporary files.

use std::io::{BufWriter, Write};
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

/// A file being written under a temporary name in its folder, through a buffer. Dropped before
/// [`Staging::keep`] took it (an export that failed half-way), it is removed.
#[derive(Debug)]
pub struct TempFile {
    out: BufWriter<std::fs::File>,
    /// The temporary file, until it is staged.
    tmp: Option<PathBuf>,
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            std::fs::remove_file(tmp).ok();
        }
    }
}

/// Create a new temporary file for `name` in `dir` with `mode`.
fn create_temp(dir: &Path, name: &str, mode: u32) -> Result<TempFile, WriteError> {
    loop {
        let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), TEMP_SEQ.fetch_add(1, Ordering::Relaxed)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        match options.open(&tmp) {
            // Left behind by a crashed process that had the same id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(err(&dir.join(name))(e)),
            Ok(f) => return Ok(TempFile { out: BufWriter::with_capacity(BUFFER, f), tmp: Some(tmp) }),
        }
    }
}

/// Bytes written to the disk at a time.
const BUFFER: usize = 256 * 1024;

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
    let mut staging = Staging::new(dir)?;
    for (name, bytes, mode) in files {
        // On error `staging` is dropped, which removes what it holds.
        let mut file = staging.open(name, *mode)?;
        file.write_all(bytes).map_err(err(&dir.join(name)))?;
        staging.keep(name, file)?;
    }
    Ok(staging.staged)
}

/// Files being staged into a folder one after the other, each written as it comes
/// ([`Staging::open`], then [`Staging::keep`] once complete): what an export writes, whatever
/// its size, without holding a file in memory.
#[derive(Debug)]
pub struct Staging {
    staged: Staged,
}

impl Staging {
    /// Stage files into `dir`, created if missing.
    pub fn new(dir: &Path) -> Result<Staging, WriteError> {
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        Ok(Staging { staged: Staged { dir: dir.to_path_buf(), temps: Vec::new() } })
    }

    /// A new temporary file for `name` (mode `mode`), to write into.
    pub fn open(&mut self, name: &str, mode: u32) -> Result<TempFile, WriteError> {
        create_temp(&self.staged.dir, name, mode)
    }

    /// `file`, complete, flushed and fsynced, is staged as `name`.
    pub fn keep(&mut self, name: &str, mut file: TempFile) -> Result<(), WriteError> {
        let path = self.staged.dir.join(name);
        file.out.flush().and_then(|_| file.out.get_ref().sync_all()).map_err(err(&path))?;
        let tmp = file.tmp.take().expect("a temporary file is kept once");
        self.staged.temps.push((tmp, path));
        Ok(())
    }

    /// Where `name` is put in place.
    pub fn path(&self, name: &str) -> PathBuf {
        self.staged.dir.join(name)
    }

    /// Every file kept, ready to be put in place.
    pub fn done(self) -> Staged {
        self.staged
    }
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
