//! An entry's metadata, read from its tar header and PAX records.

use std::io::{self, Read};

use rustix::fs::Timespec;

use crate::ArchiveError;
use crate::apply::entry_err;
use crate::error::show;

/// Metadata of one entry, read from its header and PAX records.
pub(crate) struct Meta {
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: Timespec,
    pub(crate) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Parses a PAX time (`[-]seconds[.fraction]`).
pub(crate) fn parse_pax_time(v: &[u8]) -> Option<Timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10_i64.pow(8 - i as u32);
    }
    Some(if !neg {
        Timespec {
            tv_sec: secs,
            tv_nsec: nanos,
        }
    } else if nanos == 0 {
        Timespec {
            tv_sec: -secs,
            tv_nsec: 0,
        }
    } else {
        Timespec {
            tv_sec: -secs - 1,
            tv_nsec: 1_000_000_000 - nanos,
        }
    })
}

/// A numeric header field; an empty one (all NUL or spaces, as some writers leave unused
/// fields) reads as 0, like Go's archive/tar does.
fn numeric(parsed: io::Result<u64>, field: &[u8]) -> io::Result<u64> {
    if field.iter().all(|&b| b == 0 || b == b' ') {
        return Ok(0);
    }
    parsed
}

fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// Reads an entry's mode, owners, mtime and (when `want_xattrs`) extended attributes from its
/// header and PAX records.
pub(crate) fn read_meta<R: Read>(
    e: &mut tar::Entry<'_, R>,
    raw: &[u8],
    want_xattrs: bool,
) -> Result<Meta, ArchiveError> {
    let h = e.header();
    let bad = entry_err(raw, "reading the header");
    let mode = h.mode().map_err(bad)? & 0o7777;
    let old = h.as_old();
    let uid = numeric(h.uid(), &old.uid).map_err(entry_err(raw, "reading the uid"))?;
    let gid = numeric(h.gid(), &old.gid).map_err(entry_err(raw, "reading the gid"))?;
    let mtime = numeric(h.mtime(), &old.mtime).map_err(entry_err(raw, "reading the mtime"))?;
    let mut meta = Meta {
        mode,
        uid: u32::try_from(uid).map_err(|_| ArchiveError::InvalidName { entry: show(raw) })?,
        gid: u32::try_from(gid).map_err(|_| ArchiveError::InvalidName { entry: show(raw) })?,
        mtime: Timespec {
            tv_sec: i64::try_from(mtime).unwrap_or(i64::MAX),
            tv_nsec: 0,
        },
        xattrs: Vec::new(),
    };
    if let Some(pax) = e.pax_extensions().map_err(ArchiveError::Tar)? {
        for ext in pax {
            let ext = ext.map_err(ArchiveError::Tar)?;
            let key = ext.key_bytes();
            if key == b"mtime" {
                if let Some(t) = parse_pax_time(ext.value_bytes()) {
                    meta.mtime = t;
                }
            } else if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if want_xattrs && !is_overlay_xattr(name) && !name.contains(&0) {
                    meta.xattrs
                        .push((name.to_vec(), ext.value_bytes().to_vec()));
                }
            } else if key == b"uid" || key == b"gid" {
                let v = std::str::from_utf8(ext.value_bytes())
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| ArchiveError::InvalidName { entry: show(raw) })?;
                if key == b"uid" {
                    meta.uid = v;
                } else {
                    meta.gid = v;
                }
            }
        }
    }
    Ok(meta)
}

/// The device numbers of a character or block device entry. An unreadable number is an
/// error, never 0/0: that would turn a device into an overlay whiteout.
pub(crate) fn device_numbers(h: &tar::Header, raw: &[u8]) -> Result<(u32, u32), ArchiveError> {
    let bad = entry_err(raw, "reading the device number");
    let major = numeric(
        h.device_major().map(|d| d.unwrap_or(0).into()),
        &h.as_bytes()[329..337],
    );
    let minor = numeric(
        h.device_minor().map(|d| d.unwrap_or(0).into()),
        &h.as_bytes()[337..345],
    );
    let too_big = |_| ArchiveError::InvalidName { entry: show(raw) };
    Ok((
        u32::try_from(major.map_err(bad)?).map_err(too_big)?,
        u32::try_from(minor.map_err(bad)?).map_err(too_big)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_parse_with_fractions_and_signs() {
        let t = |s: &str| parse_pax_time(s.as_bytes()).map(|t| (t.tv_sec, t.tv_nsec));
        assert_eq!(t("1700000000"), Some((1_700_000_000, 0)));
        assert_eq!(t("12.5"), Some((12, 500_000_000)));
        assert_eq!(t("-5"), Some((-5, 0)));
        assert_eq!(t("-1.25"), Some((-2, 750_000_000)));
        assert_eq!(t("1.123456789123"), Some((1, 123_456_789)));
        assert_eq!(t("x"), None);
        assert_eq!(t("1.2x"), None);
    }

    #[test]
    fn overlay_attributes_are_recognised() {
        assert!(is_overlay_xattr(b"trusted.overlay.opaque"));
        assert!(is_overlay_xattr(b"user.overlay.redirect"));
        assert!(!is_overlay_xattr(b"user.overlayish"));
        assert!(!is_overlay_xattr(b"security.capability"));
    }
}
