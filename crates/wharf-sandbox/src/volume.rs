//! Named volumes, as podman's `local` driver keeps them: `$ROOT/volumes/NAME/_data` is what
//! containers mount, `$ROOT/volumes/NAME/volume.json` what `volume inspect` shows.
//!
//! A volume is created complete or not at all (built under a temporary name, then renamed into
//! place), and removed by renaming it out of the way first, so that a crash never leaves a
//! half-made volume behind a valid name. A new volume "needs copy-up": the first container that
//! mounts it copies the image's content at the mount point into it, owners and modes included,
//! as podman does.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_sandbox::volume::VolumeError> {
//! use wharf_sandbox::volume::VolumeStore;
//! let volumes = VolumeStore::new("/var/lib/wharf");
//! let v = volumes.get_or_create("pgdata", "2026-01-01T00:00:00Z")?;
//! volumes.copy_up(&v.name, std::path::Path::new("/store/containers/c1/merged"), "/var/lib/pg")?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors of the volume store.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error(
        "invalid volume name {name:?}: names start with a letter or digit and contain only \
         [a-zA-Z0-9_.-]"
    )]
    InvalidName { name: String },

    #[error("volume with name {name:?} already exists")]
    AlreadyExists { name: String },

    #[error("no volume with name {name:?} found")]
    NotFound { name: String },

    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot copy {target} of the image (root filesystem {rootfs}) into volume {name:?}")]
    CopyUp {
        name: String,
        target: String,
        rootfs: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "cannot copy {target} of the image (root filesystem {rootfs}) into volume {name:?}: the \
         path resolves through more than 40 symbolic links (ELOOP); the image is broken or \
         hostile, fix or remove the link chain"
    )]
    SymlinkChain {
        name: String,
        target: String,
        rootfs: PathBuf,
    },

    #[error("the volume metadata {path} is invalid")]
    Metadata {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> VolumeError {
    let path = path.to_path_buf();
    move |source| VolumeError::Io {
        action,
        path,
        source,
    }
}

/// What `volume inspect` shows (podman's field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeInfo {
    pub name: String,
    pub driver: String,
    pub mountpoint: PathBuf,
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// The first container to mount it copies the image's content at the mount point in.
    pub needs_copy_up: bool,
    /// Made for one container's image `VOLUME` (a random name, removed with the container by
    /// `rm -v` and `run --rm`), as podman's `Anonymous`.
    #[serde(default)]
    pub anonymous: bool,
}

/// The volumes of one store.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
}

const METADATA: &str = "volume.json";
const DATA: &str = "_data";

/// podman's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_name(name: &str) -> Result<(), VolumeError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(VolumeError::InvalidName {
            name: name.to_string(),
        })
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos}", std::process::id())
}

impl VolumeStore {
    /// The volumes under the store rooted at `store_root` (`$ROOT/volumes`).
    pub fn new(store_root: impl AsRef<Path>) -> Self {
        Self {
            dir: store_root.as_ref().join("volumes"),
        }
    }

    /// `$ROOT/volumes`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory containers mount for volume `name` (it may not exist yet).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join(DATA)
    }

    /// Creates volume `name`; `created_at` is its RFC 3339 creation time.
    pub fn create(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        created_at: &str,
    ) -> Result<VolumeInfo, VolumeError> {
        self.create_as(name, labels, created_at, false)
    }

    /// Creates the anonymous volume `name` (a random name the caller chose) for an image's
    /// `VOLUME`.
    pub fn create_anonymous(
        &self,
        name: &str,
        created_at: &str,
    ) -> Result<VolumeInfo, VolumeError> {
        self.create_as(name, BTreeMap::new(), created_at, true)
    }

    fn create_as(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        created_at: &str,
        anonymous: bool,
    ) -> Result<VolumeInfo, VolumeError> {
        check_name(name)?;
        fs::create_dir_all(&self.dir).map_err(io_err("create", &self.dir))?;
        let dest = self.dir.join(name);
        if dest.exists() {
            return Err(VolumeError::AlreadyExists {
                name: name.to_string(),
            });
        }
        let info = VolumeInfo {
            name: name.to_string(),
            driver: "local".into(),
            mountpoint: dest.join(DATA),
            created_at: created_at.to_string(),
            labels,
            options: BTreeMap::new(),
            needs_copy_up: true,
            anonymous,
        };
        let tmp = self.dir.join(format!(".tmp-{name}-{}", unique_suffix()));
        let built = (|| {
            fs::create_dir_all(tmp.join(DATA)).map_err(io_err("create", &tmp))?;
            // Like podman's: the volume's root is world-searchable, its owner container root.
            fs::set_permissions(tmp.join(DATA), fs::Permissions::from_mode(0o755))
                .map_err(io_err("set the mode of", &tmp))?;
            write_metadata(&tmp, &info)
        })();
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        // rename(2) onto an existing non-empty directory fails: a concurrent create wins.
        if let Err(e) = fs::rename(&tmp, &dest) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(if dest.exists() {
                VolumeError::AlreadyExists {
                    name: name.to_string(),
                }
            } else {
                io_err("create", &dest)(e)
            });
        }
        Ok(info)
    }

    /// Volume `name`'s metadata.
    pub fn get(&self, name: &str) -> Result<VolumeInfo, VolumeError> {
        check_name(name)?;
        let dir = self.dir.join(name);
        let path = dir.join(METADATA);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| VolumeError::Metadata { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(VolumeError::NotFound {
                name: name.to_string(),
            }),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    /// Volume `name`, created (without labels) when it does not exist, as `run -v NAME:/path`.
    pub fn get_or_create(&self, name: &str, created_at: &str) -> Result<VolumeInfo, VolumeError> {
        match self.get(name) {
            Err(VolumeError::NotFound { .. }) => {}
            other => return other,
        }
        match self.create(name, BTreeMap::new(), created_at) {
            Err(VolumeError::AlreadyExists { .. }) => self.get(name),
            other => other,
        }
    }

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<VolumeInfo>, VolumeError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read", &self.dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("read", &self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_valid_name(&name) {
                continue; // .tmp-* and .rm-* leftovers
            }
            match self.get(&name) {
                Ok(v) => out.push(v),
                Err(VolumeError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Removes volume `name` and its content. Whether a container still uses it is the
    /// caller's business.
    pub fn remove(&self, name: &str) -> Result<(), VolumeError> {
        self.get(name)?;
        let dir = self.dir.join(name);
        let doomed = self.dir.join(format!(".rm-{name}-{}", unique_suffix()));
        fs::rename(&dir, &doomed).map_err(io_err("remove", &dir))?;
        fs::remove_dir_all(&doomed).map_err(io_err("remove", &doomed))
    }

    /// The first time volume `name` is mounted at `target` (a container path) of the root
    /// filesystem `rootfs`: when the volume is still empty, copies what the image has there
    /// into it (owners, modes and times kept) and gives the volume's root the owner and mode of
    /// the image's directory. Returns whether anything was copied.
    pub fn copy_up(&self, name: &str, rootfs: &Path, target: &str) -> Result<bool, VolumeError> {
        let mut info = self.get(name)?;
        if !info.needs_copy_up {
            return Ok(false);
        }
        let data = self.data_dir(name);
        let empty = fs::read_dir(&data)
            .map_err(io_err("read", &data))?
            .next()
            .is_none();
        let mut copied = false;
        if empty {
            // Opened by the kernel inside the root filesystem (`openat2(RESOLVE_IN_ROOT)`): an
            // image's symlink chain cannot lead the copy to a host directory, and more than 40
            // links fail with ELOOP. The tree is then read below that handle only.
            let source = match crate::sys::mount::open_dir_in_root(rootfs, Path::new(target)) {
                Ok(fd) => Some(fd),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => None,
                Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                    return Err(VolumeError::SymlinkChain {
                        name: name.to_string(),
                        target: target.to_string(),
                        rootfs: rootfs.to_path_buf(),
                    });
                }
                Err(source) => {
                    return Err(VolumeError::CopyUp {
                        name: name.to_string(),
                        target: target.to_string(),
                        rootfs: rootfs.to_path_buf(),
                        source,
                    });
                }
            };
            if let Some(fd) = source {
                let path = crate::sys::mount::fd_path(&fd);
                let meta = fs::metadata(&path).map_err(io_err("read", Path::new(target)))?;
                copy_tree(&path, &data)?;
                copy_attrs(&meta, &data)?;
                copied = true;
            }
        }
        info.needs_copy_up = false;
        write_metadata(&self.dir.join(name), &info)?;
        Ok(copied)
    }
}

fn write_metadata(dir: &Path, info: &VolumeInfo) -> Result<(), VolumeError> {
    let path = dir.join(METADATA);
    let tmp = dir.join(format!(".{METADATA}.tmp"));
    let bytes = serde_json::to_vec_pretty(info).map_err(|source| VolumeError::Metadata {
        path: path.clone(),
        source,
    })?;
    wharf_fs::Atomic::new(&path)
        .temp_at(&tmp)
        .write(&bytes)
        .map_err(io_err("write", &path))
}

/// Owner, mode and modification time of `meta` onto `dst` (not following a symlink for the
/// owner; symlinks have no mode and keep their own time).
fn copy_attrs(meta: &fs::Metadata, dst: &Path) -> Result<(), VolumeError> {
    std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid()))
        .map_err(io_err("set the owner of", dst))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    // After chown, which clears set-id bits.
    fs::set_permissions(dst, fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(io_err("set the mode of", dst))?;
    if let Ok(mtime) = meta.modified() {
        let times = fs::FileTimes::new().set_modified(mtime);
        let _ = fs::File::open(dst).and_then(|f| f.set_times(times));
    }
    Ok(())
}

/// Copies the content of directory `src` into the existing directory `dst`, streaming file
/// data, never following symlinks. Sockets and device nodes are skipped: a volume holds data.
fn copy_tree(src: &Path, dst: &Path) -> Result<(), VolumeError> {
    for entry in fs::read_dir(src).map_err(io_err("read", src))? {
        let entry = entry.map_err(io_err("read", src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(&from).map_err(io_err("read", &from))?;
        let ft = meta.file_type();
        if ft.is_dir() {
            fs::create_dir(&to).map_err(io_err("create", &to))?;
            copy_tree(&from, &to)?;
        } else if ft.is_symlink() {
            let link = fs::read_link(&from).map_err(io_err("read", &from))?;
            std::os::unix::fs::symlink(&link, &to).map_err(io_err("create", &to))?;
        } else if ft.is_file() {
            let mut r = fs::File::open(&from).map_err(io_err("read", &from))?;
            let mut w = fs::File::create_new(&to).map_err(io_err("create", &to))?;
            io::copy(&mut r, &mut w).map_err(io_err("write", &to))?;
        } else {
            tracing::debug!(path = %from.display(), "volume copy-up skips a special file");
            continue;
        }
        copy_attrs(&meta, &to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_podman() {
        for ok in ["a", "data", "pg_data-1.0", "9lives"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "a:b", "é", "rel/ative"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn create_get_list_remove() {
        let root = tempfile::tempdir().unwrap();
        let vols = VolumeStore::new(root.path());
        assert!(vols.list().unwrap().is_empty());
        let labels: BTreeMap<String, String> = [("app".to_string(), "db".to_string())].into();
        let v = vols.create("one", labels.clone(), "t0").unwrap();
        assert_eq!(v.mountpoint, root.path().join("volumes/one/_data"));
        assert!(v.mountpoint.is_dir());
        assert!(matches!(
            vols.create("one", BTreeMap::new(), "t1"),
            Err(VolumeError::AlreadyExists { .. })
        ));
        assert_eq!(vols.get_or_create("one", "t2").unwrap().labels, labels);
        assert!(!vols.get("one").unwrap().anonymous);
        vols.get_or_create("two", "t3").unwrap();
        let anon = vols.create_anonymous("0a1b", "t4").unwrap();
        assert!(anon.anonymous && vols.get("0a1b").unwrap().anonymous);
        vols.remove("0a1b").unwrap();
        let names: Vec<String> = vols.list().unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(names, ["one", "two"]);
        vols.remove("one").unwrap();
        assert!(matches!(vols.get("one"), Err(VolumeError::NotFound { .. })));
        assert!(matches!(
            vols.remove("one"),
            Err(VolumeError::NotFound { .. })
        ));
        assert!(matches!(
            vols.create("../x", BTreeMap::new(), "t"),
            Err(VolumeError::InvalidName { .. })
        ));
        // Nothing but the remaining volume is left in the directory.
        let left: Vec<_> = fs::read_dir(vols.dir()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn copy_up_once_from_the_image_path() {
        let root = tempfile::tempdir().unwrap();
        let rootfs = tempfile::tempdir().unwrap();
        let conf = rootfs.path().join("etc/app");
        fs::create_dir_all(conf.join("sub")).unwrap();
        fs::write(conf.join("sub/a.conf"), "x=1\n").unwrap();
        fs::set_permissions(conf.join("sub/a.conf"), fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("sub/a.conf", conf.join("link")).unwrap();
        fs::set_permissions(&conf, fs::Permissions::from_mode(0o750)).unwrap();
        // A symlink in the image resolves inside the root filesystem, never on the host.
        std::os::unix::fs::symlink("/etc/app", rootfs.path().join("cfg")).unwrap();

        let vols = VolumeStore::new(root.path());
        vols.create("v", BTreeMap::new(), "t").unwrap();
        assert!(vols.copy_up("v", rootfs.path(), "/cfg").unwrap());
        let data = vols.data_dir("v");
        assert_eq!(
            fs::read_to_string(data.join("sub/a.conf")).unwrap(),
            "x=1\n"
        );
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&data.join("sub/a.conf")), 0o600);
        assert_eq!(
            mode(&data),
            0o750,
            "the volume root takes the image dir's mode"
        );
        assert_eq!(
            fs::read_link(data.join("link")).unwrap(),
            Path::new("sub/a.conf")
        );
        assert!(!vols.get("v").unwrap().needs_copy_up);

        // Only once: later content in the image path is not copied again.
        fs::write(conf.join("new"), "").unwrap();
        assert!(!vols.copy_up("v", rootfs.path(), "/cfg").unwrap());
        assert!(!data.join("new").exists());

        // A path the image does not have copies nothing but still clears the flag.
        vols.create("w", BTreeMap::new(), "t").unwrap();
        assert!(!vols.copy_up("w", rootfs.path(), "/nope").unwrap());
        assert!(!vols.get("w").unwrap().needs_copy_up);
    }
}
