//! Entry names of untrusted archives, checked before anything touches the disk.
//!
//! A name is split on `/`; empty and `.` components are dropped; any `..` component is refused
//! (real layers never contain one, and a lexical rule cannot be fooled by symlinks). Absolute
//! names are refused unless the caller asks for docker's behaviour of stripping the leading `/`;
//! either way the name is then resolved inside the root with `RESOLVE_IN_ROOT`.

use crate::ArchiveError;
use crate::error::show;

/// The OCI whiteout prefix.
pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// The OCI opaque-directory marker.
pub const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// The aufs metadata prefix: such entries are skipped, as docker and containerd do.
pub(crate) const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// Normalises an entry name to `a/b/c` (no leading, trailing or doubled slashes). The empty
/// result names the root itself.
pub(crate) fn normalize(raw: &[u8], confine_absolute: bool) -> Result<Vec<u8>, ArchiveError> {
    if raw.contains(&0) {
        return Err(ArchiveError::InvalidName { entry: show(raw) });
    }
    if raw.first() == Some(&b'/') && !confine_absolute {
        return Err(ArchiveError::AbsolutePath { entry: show(raw) });
    }
    let mut out = Vec::with_capacity(raw.len());
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err(ArchiveError::Escape { entry: show(raw) }),
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Ok(out)
}

/// Splits a normalised, non-empty name into its parent (possibly empty) and last component.
pub(crate) fn split(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().rposition(|&b| b == b'/') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (&[], name),
    }
}

/// Joins a normalised parent and a component.
pub(crate) fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parent.len() + 1 + name.len());
    out.extend_from_slice(parent);
    if !parent.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// Refuses a relative symlink target that climbs above the root from the link's directory, as
/// docker does; absolute targets are fine because they are resolved inside the root later.
pub(crate) fn check_symlink_target(entry: &[u8], target: &[u8]) -> Result<(), ArchiveError> {
    let escape = || ArchiveError::SymlinkEscape {
        entry: show(entry),
        target: show(target),
    };
    if target.is_empty() || target.contains(&0) {
        return Err(ArchiveError::InvalidName { entry: show(entry) });
    }
    if target.first() == Some(&b'/') {
        return Ok(());
    }
    let (parent, _) = split(entry);
    let mut depth: usize = if parent.is_empty() {
        0
    } else {
        parent.split(|&b| b == b'/').count()
    };
    for comp in target.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => depth = depth.checked_sub(1).ok_or_else(escape)?,
            _ => depth += 1,
        }
    }
    Ok(())
}

/// What a name means for the OCI whiteout rules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Whiteout<'a> {
    /// Not a whiteout: a normal entry.
    None,
    /// `.wh..wh..opq`: the parent directory hides its lower contents.
    Opaque,
    /// `.wh.<name>`: `<name>` in the parent is deleted.
    Remove(&'a [u8]),
    /// `.wh..wh.<anything else>`: aufs bookkeeping, skipped.
    AufsMeta,
}

pub(crate) fn whiteout<'a>(entry: &[u8], base: &'a [u8]) -> Result<Whiteout<'a>, ArchiveError> {
    if base == OPAQUE_MARKER {
        return Ok(Whiteout::Opaque);
    }
    if base.starts_with(AUFS_META_PREFIX) {
        return Ok(Whiteout::AufsMeta);
    }
    match base.strip_prefix(WHITEOUT_PREFIX) {
        None => Ok(Whiteout::None),
        Some(b"" | b"." | b"..") => Err(ArchiveError::BadWhiteout { entry: show(entry) }),
        Some(name) => Ok(Whiteout::Remove(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_dots_and_slashes_and_refuses_dotdot() {
        assert_eq!(normalize(b"./a//b/./c/", false).unwrap(), b"a/b/c");
        assert_eq!(normalize(b"./", false).unwrap(), b"");
        assert!(matches!(
            normalize(b"a/../b", false),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            normalize(b"../x", false),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            normalize(b"/etc/passwd", false),
            Err(ArchiveError::AbsolutePath { .. })
        ));
        assert_eq!(normalize(b"/etc/passwd", true).unwrap(), b"etc/passwd");
        assert!(matches!(
            normalize(b"/../x", true),
            Err(ArchiveError::Escape { .. })
        ));
    }

    #[test]
    fn split_and_join_are_inverse() {
        assert_eq!(split(b"a/b/c"), (&b"a/b"[..], &b"c"[..]));
        assert_eq!(split(b"c"), (&b""[..], &b"c"[..]));
        assert_eq!(join(b"a/b", b"c"), b"a/b/c");
        assert_eq!(join(b"", b"c"), b"c");
    }

    #[test]
    fn symlink_targets_may_not_climb_above_the_root() {
        assert!(check_symlink_target(b"lib64", b"/usr/lib64").is_ok());
        assert!(check_symlink_target(b"usr/lib/x", b"../../bin/sh").is_ok());
        assert!(check_symlink_target(b"usr/lib/x", b"../../../etc").is_err());
        assert!(check_symlink_target(b"x", b"..").is_err());
        assert!(check_symlink_target(b"a/x", b"b/../../c").is_ok());
        assert!(check_symlink_target(b"a/x", b"").is_err());
    }

    #[test]
    fn whiteouts_are_recognised_and_dot_names_refused() {
        assert_eq!(
            whiteout(b"a/.wh.b", b".wh.b").unwrap(),
            Whiteout::Remove(b"b")
        );
        assert_eq!(
            whiteout(b"a/.wh..wh..opq", b".wh..wh..opq").unwrap(),
            Whiteout::Opaque
        );
        assert_eq!(
            whiteout(b".wh..wh.plnk", b".wh..wh.plnk").unwrap(),
            Whiteout::AufsMeta
        );
        assert_eq!(whiteout(b"x", b"x").unwrap(), Whiteout::None);
        for bad in [&b".wh."[..], b".wh..", b".wh..."] {
            assert!(matches!(
                whiteout(bad, bad),
                Err(ArchiveError::BadWhiteout { .. })
            ));
        }
    }
}
