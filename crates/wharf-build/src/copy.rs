//! COPY and ADD into a container's root filesystem with Docker's rules: a directory source
//! copies its contents; a file goes into the destination when that ends with `/`, already is
//! a directory, or several sources are given; missing parents are created; top-level symlinks
//! are followed while symlinks inside directories are kept; files from the context belong to
//! 0:0 unless `--chown` says otherwise, files from a stage keep their owners; `--chmod` applies
//! to everything copied. ADD also unpacks local tar archives (plain, gzip, zstd, bzip2, xz).

use std::io::Read as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;
use wharf_archive::{ApplyOptions, LayerCompression};

use crate::context::{Source, join_rel};
use crate::error::BuildError;
use crate::rootfs;

/// How to copy.
pub struct CopySpec<'a> {
    /// The container's root filesystem.
    pub rootfs: &'a Path,
    /// The absolute destination (a trailing `/` marks a directory).
    pub dest: String,
    /// `--chown`, resolved.
    pub chown: Option<(u32, u32)>,
    /// `--chmod`.
    pub chmod: Option<Chmod>,
    /// Keep the sources' owners (COPY --from) instead of 0:0.
    pub keep_owner: bool,
    /// Paths (relative to the source's root) that must not be copied.
    pub excluded: &'a dyn Fn(&str) -> bool,
    /// ADD: unpack local archives.
    pub unpack: bool,
    /// The files with several links copied so far from this source, by (device, inode):
    /// BuildKit keeps a link group copied together one group (fsutil's copy links them).
    pub links: &'a HardLinks,
}

/// Copied files with several links: source (device, inode) -> the first copy's host path.
pub type HardLinks = std::cell::RefCell<std::collections::HashMap<(u64, u64), PathBuf>>;

impl CopySpec<'_> {
    fn owner(&self, meta: &std::fs::Metadata) -> (u32, u32) {
        match self.chown {
            Some(o) => o,
            None if self.keep_owner => (meta.uid(), meta.gid()),
            None => (0, 0),
        }
    }
}

/// A `--chmod` value: an octal mode, or a symbolic one (Dockerfile 1.14) applied to each
/// source's own mode as chmod(1) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chmod {
    Octal(u32),
    /// `(who mask, op, permission bits, X)` clauses, in order.
    Symbolic(Vec<(u32, char, u32, bool)>),
}

impl Chmod {
    /// The mode of a copied file whose source mode is `mode`.
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        match self {
            Chmod::Octal(m) => *m,
            Chmod::Symbolic(clauses) => {
                let mut mode = mode & 0o7777;
                for (who, op, perms, x) in clauses {
                    let mut bits = *perms;
                    // X: execute only for directories and files someone may already execute.
                    if *x && (is_dir || mode & 0o111 != 0) {
                        bits |= 0o111;
                    }
                    let bits = bits & who;
                    match op {
                        '+' => mode |= bits,
                        '-' => mode &= !bits,
                        _ => mode = (mode & !who) | bits,
                    }
                }
                mode
            }
        }
    }
}

/// Parses `--chmod`: octal (`0755`), or symbolic as chmod(1) (`u+x`, `go=rx`, `a-w,u+s`;
/// no `who` means all), as BuildKit accepts since Dockerfile 1.14.
pub fn parse_chmod(value: &str) -> Result<Chmod, BuildError> {
    let bad = || BuildError::InvalidFlag {
        flag: "chmod",
        value: value.to_owned(),
        reason: "expected an octal mode such as 0755 or a symbolic one such as u+x,go=rx"
            .to_owned(),
    };
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return u32::from_str_radix(value, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(Chmod::Octal)
            .ok_or_else(bad);
    }
    let mut clauses = Vec::new();
    for clause in value.split(',') {
        let op_at = clause.find(['+', '-', '=']).ok_or_else(bad)?;
        let (who_s, rest) = clause.split_at(op_at);
        let mut who = 0;
        for c in who_s.chars() {
            who |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(bad()),
            };
        }
        if who == 0 {
            who = 0o7777;
        }
        let op = rest.chars().next().ok_or_else(bad)?;
        let mut perms = 0;
        let mut x = false;
        for c in rest[1..].chars() {
            perms |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                's' => 0o6000,
                't' => 0o1000,
                'X' => {
                    x = true;
                    0
                }
                _ => return Err(bad()),
            };
        }
        clauses.push((who, op, perms, x));
    }
    Ok(Chmod::Symbolic(clauses))
}

/// Resolves `--chown=user[:group]` against the image's `/etc/passwd` and `/etc/group`. Without
/// a group, a user name brings its primary group from `/etc/passwd` and a bare ID is used as
/// the group ID too, as BuildKit's `readUser` (and buildah) do.
pub fn parse_chown(rootfs: &Path, value: &str) -> Result<(u32, u32), BuildError> {
    let bad = |reason: String| BuildError::InvalidFlag {
        flag: "chown",
        value: value.to_owned(),
        reason,
    };
    let (user, group) = match value.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (value, None),
    };
    let (uid, primary_gid) = if let Ok(n) = user.parse::<u32>() {
        (n, n)
    } else {
        let r = wharf_sandbox::spec::resolve_user(rootfs, user).map_err(|e| bad(e.to_string()))?;
        (r.uid, r.gid)
    };
    let gid = match group {
        None => primary_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                wharf_sandbox::spec::resolve_user(rootfs, &format!("0:{g}"))
                    .map_err(|e| bad(e.to_string()))?
                    .gid
            }
        },
    };
    Ok((uid, gid))
}

/// Copies `sources` as COPY/ADD does.
pub fn copy_sources(sources: &[Source], spec: &CopySpec<'_>) -> Result<(), BuildError> {
    copy_sources_with(sources, spec, None)
}

/// Files a copy created without their bytes, for the layer writer to fill from their sources
/// while it archives them ([`wharf_archive::write_layer_filling`]).
pub type Pending = std::cell::RefCell<wharf_archive::PendingFiles>;

/// [`copy_sources`] that leaves the bytes of regular files to the layer writer: each file is
/// created with its final size (sparse), owner, mode and times and listed in `pending`, so
/// that writing the step's layer reads each source once for the copy and the layer together.
/// The caller must write that layer (or [`wharf_archive::PendingFiles::fill_rest`]) before
/// anything reads the tree, and keep the sources in place until then.
pub fn copy_sources_deferred(
    sources: &[Source],
    spec: &CopySpec<'_>,
    pending: &Pending,
) -> Result<(), BuildError> {
    copy_sources_with(sources, spec, Some(pending))
}

fn copy_sources_with(
    sources: &[Source],
    spec: &CopySpec<'_>,
    pending: Option<&Pending>,
) -> Result<(), BuildError> {
    let dest_dir_forced = spec.dest.ends_with('/') || sources.len() > 1;
    for src in sources {
        let meta = std::fs::metadata(&src.path).map_err(BuildError::io("reading", &src.path))?;
        let dest_host = rootfs::resolve(spec.rootfs, &spec.dest, true)
            .map_err(BuildError::io("resolving", &spec.dest))?;
        if meta.is_dir() {
            let owner = spec.chown;
            let top = rootfs::mkdir_all(spec.rootfs, &spec.dest, owner)
                .map_err(BuildError::io("creating", &dest_host))?;
            copy_tree(src, &top, &spec.dest, spec, pending)?;
            continue;
        }
        if spec.unpack
            && let Some(kind) = archive_kind(&src.path)?
        {
            let top = rootfs::mkdir_all(spec.rootfs, &spec.dest, spec.chown)
                .map_err(BuildError::io("creating", &dest_host))?;
            let f = std::fs::File::open(&src.path).map_err(BuildError::io("opening", &src.path))?;
            let f = std::io::BufReader::new(f);
            let tar: Box<dyn std::io::Read> = match kind {
                Archive::Tar(compression) => wharf_archive::decompress(f, compression)?,
                Archive::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(f)),
                Archive::Xz => Box::new(lzma_rust2::XzReader::new(f, true)),
            };
            let opts = ApplyOptions {
                same_owner: true,
                confine_absolute_names: true,
                ..ApplyOptions::default()
            };
            wharf_archive::apply_layer(tar, &top, &opts)?;
            continue;
        }
        let is_dir = dest_dir_forced || dest_host.is_dir();
        let target = if is_dir {
            let dir = rootfs::mkdir_all(spec.rootfs, &spec.dest, spec.chown)
                .map_err(BuildError::io("creating", &dest_host))?;
            let name = Path::new(&src.rel)
                .file_name()
                .or_else(|| src.path.file_name())
                .map(PathBuf::from)
                .unwrap_or_default();
            dir.join(name)
        } else {
            let parent = Path::new(&spec.dest)
                .parent()
                .map_or_else(|| "/".to_owned(), |p| p.to_string_lossy().into_owned());
            // Missing parents belong to the --chown owner, as BuildKit's CreateDestPath does.
            rootfs::mkdir_all(spec.rootfs, &parent, spec.chown)
                .map_err(BuildError::io("creating", &parent))?;
            dest_host
        };
        copy_entry(&src.path, &target, &meta, spec, pending)?;
    }
    Ok(())
}

/// A local archive ADD unpacks.
enum Archive {
    /// Plain, gzip or zstd tar.
    Tar(LayerCompression),
    /// bzip2 tar, decoded by the pure-Rust `bzip2` backend (`libbz2-rs-sys`).
    Bzip2,
    /// xz tar, decoded by the pure-Rust `lzma-rust2`.
    Xz,
}

/// Recognises local archives ADD unpacks by their first bytes: tar, or a gzip, zstd, bzip2
/// or xz compressed stream (taken for a tar, as Docker does).
fn archive_kind(path: &Path) -> Result<Option<Archive>, BuildError> {
    let mut head = [0u8; 512];
    let mut f = std::fs::File::open(path).map_err(BuildError::io("opening", path))?;
    let mut n = 0;
    while n < head.len() {
        let got = f
            .read(&mut head[n..])
            .map_err(BuildError::io("reading", path))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    if let Some(c) = wharf_archive::sniff(&head[..n]) {
        return Ok(Some(Archive::Tar(c)));
    }
    Ok(match &head[..n] {
        [b'B', b'Z', b'h', ..] => Some(Archive::Bzip2),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Some(Archive::Xz),
        _ => None,
    })
}

fn copy_tree(
    src: &Source,
    top: &Path,
    dest: &str,
    spec: &CopySpec<'_>,
    pending: Option<&Pending>,
) -> Result<(), BuildError> {
    let matcher = wharf_dockerfile::ignore::Matcher::default();
    // Directory times are set again once their contents are in place (creating a child
    // changes its parent's mtime), deepest first.
    let mut dirs: Vec<(PathBuf, FileTime)> = Vec::new();
    for entry in wharf_dockerfile::ignore::walk(&src.path, &matcher) {
        let entry = entry?;
        if (spec.excluded)(&join_rel(&src.rel, &entry.rel_path)) {
            continue;
        }
        let container_path = format!("{}/{}", dest.trim_end_matches('/'), entry.rel_path);
        let target = rootfs::resolve(spec.rootfs, &container_path, false)
            .map_err(BuildError::io("resolving", &container_path))?;
        // A parent that is an excluded directory was skipped: an exception re-includes this
        // entry, so the parents come too, with their own owner, mode and time (BuildKit's
        // transferred context holds them as the directories they are).
        if let Some(parent) = target.parent()
            && !parent.exists()
            && parent.starts_with(top)
        {
            let mut rel = String::new();
            for part in entry
                .rel_path
                .split('/')
                .collect::<Vec<_>>()
                .split_last()
                .map_or(&[][..], |(_, p)| p)
            {
                rel = join_rel(&rel, part);
                let at = format!("{}/{rel}", dest.trim_end_matches('/'));
                let host = rootfs::resolve(spec.rootfs, &at, false)
                    .map_err(BuildError::io("resolving", &at))?;
                if host.exists() {
                    continue;
                }
                let from = src.path.join(&rel);
                let meta =
                    std::fs::symlink_metadata(&from).map_err(BuildError::io("reading", &from))?;
                copy_entry(&from, &host, &meta, spec, pending)?;
                dirs.push((host, FileTime::from_last_modification_time(&meta)));
            }
        }
        copy_entry(&entry.path, &target, &entry.metadata, spec, pending)?;
        if entry.metadata.is_dir() {
            dirs.push((
                target,
                FileTime::from_last_modification_time(&entry.metadata),
            ));
        }
    }
    for (dir, mtime) in dirs.iter().rev() {
        filetime::set_file_times(dir, *mtime, *mtime)
            .map_err(BuildError::io("setting times of", dir))?;
    }
    Ok(())
}

fn copy_entry(
    src: &Path,
    target: &Path,
    meta: &std::fs::Metadata,
    spec: &CopySpec<'_>,
    pending: Option<&Pending>,
) -> Result<(), BuildError> {
    let (uid, gid) = spec.owner(meta);
    let mode = spec.chmod.as_ref().map_or(meta.mode() & 0o7777, |c| {
        c.apply(meta.mode(), meta.is_dir())
    });
    let ft = meta.file_type();
    let existing = std::fs::symlink_metadata(target).ok();
    if let Some(e) = &existing
        && !(e.is_dir() && ft.is_dir())
    {
        if e.is_dir() {
            std::fs::remove_dir_all(target).map_err(BuildError::io("replacing", target))?;
        } else {
            std::fs::remove_file(target).map_err(BuildError::io("replacing", target))?;
        }
    }
    let mtime = FileTime::from_last_modification_time(meta);
    if ft.is_symlink() {
        let link = std::fs::read_link(src).map_err(BuildError::io("reading link", src))?;
        std::os::unix::fs::symlink(&link, target).map_err(BuildError::io("creating", target))?;
        std::os::unix::fs::lchown(target, Some(uid), Some(gid))
            .map_err(BuildError::io("changing the owner of", target))?;
        filetime::set_symlink_file_times(target, mtime, mtime)
            .map_err(BuildError::io("setting times of", target))?;
        return Ok(());
    }
    if ft.is_dir() {
        if existing.is_none() {
            std::fs::create_dir(target).map_err(BuildError::io("creating", target))?;
        }
    } else if ft.is_file() {
        // Where the layer writer fills the file, it is listed by its path in the root.
        let deferred = pending.and_then(|p| {
            let rel = target.strip_prefix(spec.rootfs).ok()?;
            Some((p, rel.as_os_str().as_encoded_bytes().to_vec()))
        });
        if meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            let first = spec.links.borrow().get(&key).cloned();
            if let Some(first) = first
                && std::fs::hard_link(&first, target).is_ok()
            {
                // Same inode: owner, mode and time are the first copy's already. Every name
                // is listed: the layer writer fills whichever it meets first.
                if let Some((p, rel)) = deferred {
                    p.borrow_mut().insert(rel, src.to_owned());
                }
                return Ok(());
            }
            spec.links.borrow_mut().insert(key, target.to_owned());
        }
        if let Some((p, rel)) = deferred {
            // create_new (O_EXCL) never follows a link at the target.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(target)
                .map_err(BuildError::io("creating", target))?;
            f.set_len(meta.len())
                .map_err(BuildError::io("sizing", target))?;
            p.borrow_mut().insert(rel, src.to_owned());
        } else {
            std::fs::copy(src, target).map_err(BuildError::io("copying to", target))?;
        }
    } else {
        // Sockets, fifos and devices have no place in a build context.
        return Ok(());
    }
    std::os::unix::fs::lchown(target, Some(uid), Some(gid))
        .map_err(BuildError::io("changing the owner of", target))?;
    std::fs::set_permissions(target, std::fs::Permissions::from_mode(mode))
        .map_err(BuildError::io("changing the mode of", target))?;
    filetime::set_file_times(target, mtime, mtime)
        .map_err(BuildError::io("setting times of", target))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn chmod_octal_and_symbolic() {
        assert_eq!(parse_chmod("755").unwrap(), Chmod::Octal(0o755));
        let sym = |v: &str, mode: u32, dir: bool| parse_chmod(v).unwrap().apply(mode, dir);
        assert_eq!(sym("u=rwx,go=rx", 0o600, false), 0o755);
        assert_eq!(sym("a+x", 0o644, false), 0o755);
        assert_eq!(sym("+x", 0o600, false), 0o711);
        assert_eq!(sym("go-rwx", 0o755, true), 0o700);
        assert_eq!(sym("a+X", 0o644, false), 0o644);
        assert_eq!(sym("a+X", 0o644, true), 0o755);
        assert_eq!(sym("u+s", 0o755, false), 0o4755);
        for bad in ["", "8", "u", "q+x", "u+z", "u+x,"] {
            assert!(parse_chmod(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn chown_without_a_group_uses_the_primary_group_of_a_name_and_the_id_of_an_id() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("etc")).unwrap();
        std::fs::write(
            tmp.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:2000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(tmp.path().join("etc/group"), "root:x:0:\nappgrp:x:2000:\n").unwrap();
        let chown = |v: &str| parse_chown(tmp.path(), v).unwrap();
        assert_eq!(chown("app"), (1000, 2000));
        assert_eq!(chown("1000"), (1000, 1000));
        assert_eq!(chown("app:0"), (1000, 0));
        assert_eq!(chown("7:appgrp"), (7, 2000));
        assert!(parse_chown(tmp.path(), "nobody").is_err());
    }
}
