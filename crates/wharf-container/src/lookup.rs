//! Finding a container by what a user types: its name, its full ID, or a prefix of the ID
//! that only one container has (podman's and buildah's rule). One implementation for berth's
//! containers and kiln's working containers.

use crate::ContainerError;

/// The container among `all` that `key` names: an exact name or ID first (a name that looks
/// like another container's ID prefix still finds its own container), else the one container
/// whose ID starts with `key`. [`ContainerError::NotFound`] or [`ContainerError::Ambiguous`]
/// (naming the candidates) otherwise.
pub fn by_key<'a, T>(
    all: &'a [T],
    key: &str,
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
) -> Result<&'a T, ContainerError> {
    if let Some(exact) = all.iter().find(|c| name(c) == key || id(c) == key) {
        return Ok(exact);
    }
    let hits: Vec<&T> = all
        .iter()
        .filter(|c| !key.is_empty() && id(c).starts_with(key))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(ContainerError::NotFound {
            key: key.to_owned(),
        }),
        many => Err(ContainerError::Ambiguous {
            key: key.to_owned(),
            candidates: many.iter().map(|c| name(c).to_owned()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(all: &'a [(&str, &str)], key: &str) -> Result<&'a str, ContainerError> {
        by_key(all, key, |c| c.0, |c| c.1).map(|c| c.1)
    }

    #[test]
    fn name_id_and_unique_prefix() {
        let all = [("abc123", "web"), ("abd456", "db"), ("ffee00", "abd")];
        assert_eq!(find(&all, "web").unwrap(), "web");
        assert_eq!(find(&all, "abd456").unwrap(), "db");
        assert_eq!(find(&all, "abc").unwrap(), "web");
        assert_eq!(find(&all, "ff").unwrap(), "abd");
        // A name wins over an ID prefix that is also a container's name.
        assert_eq!(find(&all, "abd").unwrap(), "abd");
    }

    #[test]
    fn ambiguous_prefix_names_the_candidates() {
        let all = [("abc123", "web"), ("abd456", "db")];
        let err = find(&all, "ab").unwrap_err();
        assert!(
            matches!(&err, ContainerError::Ambiguous { candidates, .. } if candidates == &["web", "db"]),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("\"ab\" is ambiguous") && msg.contains("web, db"),
            "{msg}"
        );
    }

    #[test]
    fn nothing_and_the_empty_key_find_nothing() {
        let all = [("abc123", "web")];
        assert!(matches!(
            find(&all, "zz"),
            Err(ContainerError::NotFound { .. })
        ));
        assert!(matches!(
            find(&all, ""),
            Err(ContainerError::NotFound { .. })
        ));
        assert!(matches!(
            find(&[], "a"),
            Err(ContainerError::NotFound { .. })
        ));
    }
}
