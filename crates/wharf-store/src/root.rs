//! Where the store lives when no `--root` is given.

use std::path::PathBuf;

use crate::StoreError;

/// The default store root: `$WHARF_ROOT`; else `/var/lib/wharf` for root (uid 0); else
/// `$XDG_DATA_HOME/wharf`; else `~/.local/share/wharf`.
///
/// "Root" means the host's root: a user re-executed into a user namespace is uid 0 there but
/// keeps the store of the user it is, so that the same command gives the same store inside
/// and outside the namespace.
pub fn default_root() -> Result<PathBuf, StoreError> {
    default_root_from(
        |k| std::env::var_os(k).filter(|v| !v.is_empty()),
        rustix::process::geteuid().is_root() && !in_user_namespace(),
    )
}

/// Whether this process runs in a user namespace other than the initial one, whose uid map is
/// the identity over the whole 32-bit range.
fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let fields: Vec<&str> = map.split_whitespace().collect();
        fields != ["0", "0", "4294967295"]
    })
}

pub(crate) fn default_root_from(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
    is_root: bool,
) -> Result<PathBuf, StoreError> {
    if let Some(root) = env("WHARF_ROOT") {
        return Ok(PathBuf::from(root));
    }
    if is_root {
        return Ok(PathBuf::from("/var/lib/wharf"));
    }
    // The XDG base-directory spec says relative values are invalid and must be ignored.
    if let Some(xdg) = env("XDG_DATA_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Ok(xdg.join("wharf"));
    }
    env("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/wharf"))
        .ok_or(StoreError::NoRoot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn root_choice_follows_the_documented_order() {
        let all = [
            ("WHARF_ROOT", "/w"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            default_root_from(env(&all), false).unwrap(),
            PathBuf::from("/w")
        );
        assert_eq!(
            default_root_from(env(&all[1..]), false).unwrap(),
            PathBuf::from("/x/wharf")
        );
        assert_eq!(
            default_root_from(env(&all[1..]), true).unwrap(),
            PathBuf::from("/var/lib/wharf")
        );
        assert_eq!(
            default_root_from(env(&[("XDG_DATA_HOME", "rel"), ("HOME", "/h")]), false).unwrap(),
            PathBuf::from("/h/.local/share/wharf")
        );
        assert!(matches!(
            default_root_from(env(&[]), false),
            Err(StoreError::NoRoot)
        ));
    }
}
