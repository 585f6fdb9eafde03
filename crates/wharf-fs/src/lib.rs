//! Atomic file replacement, the one way Wharf writes a file that another process may read
//! while it changes (store metadata, layouts, archives, credentials, container records, OCI
//! bundles): the bytes go to a temporary file beside the destination, which is renamed over
//! it, so a reader sees the old file or the new one, never a torn one.
//!
//! What differs between callers is only how much survives a crash, and that is a parameter,
//! not a copy: [`Durability::Synced`] for what must outlive a power cut (the store, layouts,
//! `auth.json`), [`Durability::Unsynced`] for state that is rebuilt anyway (a container's
//! bundle), where four fsyncs per `berth run` cost ~50 ms.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let dest = dir.path().join("index.json");
//! wharf_fs::Atomic::new(&dest).mode(0o600).write(b"{}").unwrap();
//! assert_eq!(std::fs::read(&dest).unwrap(), b"{}");
//! ```
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// How much of an atomic write survives a crash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// The file is synced before the rename and its directory after it: once the write
    /// returns, a crash leaves the new file.
    #[default]
    Synced,
    /// Rename only: a crash may leave the old file (or, on some filesystems, an empty one).
    /// For state that is rebuilt after a crash anyway.
    Unsynced,
}

/// Where the temporary file is made.
#[derive(Debug, Clone, Copy)]
enum Temp<'a> {
    /// A random name (`O_EXCL`) in the destination's directory: safe in a directory another
    /// user can write, where a predictable name could be pre-created or linked elsewhere.
    Beside,
    /// A random name in this directory (same filesystem as the destination).
    In(&'a Path),
    /// Exactly this path, on a fresh inode (a leftover of a crash is removed first, so a
    /// wider mode it may carry is not inherited): for owners that clean their own temporary
    /// names (the store's per-process `tmp/` lease).
    At(&'a Path),
}

/// An atomic replacement of one file; see the crate documentation.
#[derive(Debug, Clone, Copy)]
pub struct Atomic<'a> {
    dest: &'a Path,
    mode: u32,
    durability: Durability,
    temp: Temp<'a>,
}

impl<'a> Atomic<'a> {
    /// Replaces `dest`, mode 0644 (less the umask), synced, through a random temporary name
    /// beside it.
    pub fn new(dest: &'a Path) -> Self {
        Self {
            dest,
            mode: 0o644,
            durability: Durability::Synced,
            temp: Temp::Beside,
        }
    }

    /// The new file's permission bits (0600 for anything holding secrets or environments).
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Makes the temporary file under `dir` (which must be on the destination's filesystem).
    pub fn temp_in(mut self, dir: &'a Path) -> Self {
        self.temp = Temp::In(dir);
        self
    }

    /// Uses exactly `path` as the temporary file (same filesystem as the destination).
    pub fn temp_at(mut self, path: &'a Path) -> Self {
        self.temp = Temp::At(path);
        self
    }

    /// Writes `bytes` as the whole new file.
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        self.write_with(|w| w.write_all(bytes))
    }

    /// Streams the new file through `fill`; nothing replaces the destination (and no
    /// temporary file is left) when `fill` fails.
    pub fn write_with<T>(
        &self,
        fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<T>,
    ) -> io::Result<T> {
        match self.temp {
            Temp::At(path) => {
                let _ = std::fs::remove_file(path);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(self.mode)
                    .open(path)?;
                let result = self.fill_and_sync(file, fill).and_then(|v| {
                    std::fs::rename(path, self.dest)?;
                    Ok(v)
                });
                if result.is_err() {
                    let _ = std::fs::remove_file(path);
                }
                let v = result?;
                self.sync_parent()?;
                Ok(v)
            }
            Temp::Beside | Temp::In(_) => {
                let dir = match self.temp {
                    Temp::In(dir) => dir,
                    _ => parent(self.dest),
                };
                let tmp = tempfile::Builder::new()
                    .prefix(".tmp-")
                    .permissions(Permissions::from_mode(self.mode))
                    .tempfile_in(dir)?;
                let (file, path) = tmp.into_parts();
                // Dropping `path` on an error removes the temporary file.
                let v = self.fill_and_sync(file, fill)?;
                path.persist(self.dest).map_err(|e| e.error)?;
                self.sync_parent()?;
                Ok(v)
            }
        }
    }

    fn fill_and_sync<T>(
        &self,
        file: File,
        fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut w = BufWriter::with_capacity(256 << 10, file);
        let v = fill(&mut w)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        if self.durability == Durability::Synced {
            file.sync_all()?;
        }
        Ok(v)
    }

    fn sync_parent(&self) -> io::Result<()> {
        if self.durability == Durability::Synced {
            sync_dir(parent(self.dest))?;
        }
        Ok(())
    }
}

/// A temporary file that becomes its destination on [`Pending::commit`], for files whose name
/// is known only once they are written (content-addressed blobs, named by their digest).
/// Dropped uncommitted, it is removed.
#[derive(Debug)]
pub struct Pending {
    w: BufWriter<File>,
    path: tempfile::TempPath,
    durability: Durability,
}

impl Pending {
    /// A random temporary name (`O_EXCL`, mode 0644 less the umask) in `dir`, created with its
    /// parents when missing; `dir` must be on the destination's filesystem.
    pub fn in_dir(dir: &Path, durability: Durability) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (file, path) = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)?
            .into_parts();
        Ok(Self {
            w: BufWriter::with_capacity(256 << 10, file),
            path,
            durability,
        })
    }

    /// Flushes (and with [`Durability::Synced`] syncs) the file and renames it to `dest`.
    pub fn commit(self, dest: &Path) -> io::Result<()> {
        let file = self
            .w
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        if self.durability == Durability::Synced {
            file.sync_all()?;
        }
        self.path.persist(dest).map_err(|e| e.error)?;
        if self.durability == Durability::Synced {
            sync_dir(parent(dest))?;
        }
        Ok(())
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.w.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Syncs a directory, so that a rename into it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    #[test]
    fn replaces_with_the_mode_asked_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        std::fs::write(&dest, b"old").unwrap();
        Atomic::new(&dest).mode(0o600).write(b"new").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&dest).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        std::fs::write(&dest, b"old").unwrap();
        for atomic in [
            Atomic::new(&dest),
            Atomic::new(&dest).temp_at(&dir.path().join("t")),
        ] {
            let err = atomic
                .write_with(|w| {
                    w.write_all(b"partial")?;
                    Err::<(), _>(io::Error::other("source failed"))
                })
                .unwrap_err();
            assert_eq!(err.to_string(), "source failed");
            assert_eq!(std::fs::read(&dest).unwrap(), b"old");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn a_pending_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Pending::in_dir(&dir.path().join("blobs"), Durability::Synced).unwrap();
        p.write_all(b"blob").unwrap();
        let dest = dir.path().join("blobs/abc");
        assert!(!dest.exists());
        p.commit(&dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"blob");
        let mut dropped = Pending::in_dir(&dir.path().join("blobs"), Durability::Synced).unwrap();
        dropped.write_all(b"half").unwrap();
        drop(dropped);
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs")).unwrap().count(),
            1
        );
    }

    #[test]
    fn an_exact_temporary_path_starts_from_a_fresh_inode() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let tmp = dir.path().join("f.tmp");
        // A leftover of a crash, world-readable: the new file must not inherit its mode.
        std::fs::write(&tmp, b"leftover").unwrap();
        std::fs::set_permissions(&tmp, Permissions::from_mode(0o666)).unwrap();
        Atomic::new(&dest)
            .mode(0o600)
            .temp_at(&tmp)
            .durability(Durability::Unsynced)
            .write(b"x")
            .unwrap();
        assert_eq!(std::fs::metadata(&dest).unwrap().mode() & 0o777, 0o600);
        assert!(!tmp.exists());
    }
}
