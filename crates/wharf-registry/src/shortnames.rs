//! Short-name resolution as containers-registries.conf(5) describes it, shared by every command
//! that names a registry image (`kiln pull/from/build`, `berth run/pull`): a fully-qualified name
//! is itself; a short name (`busybox`, `team/app:1`) is its `[aliases]` entry when there is one,
//! else each `unqualified-search-registries` entry in order.
//!
//! `short-name-mode = "enforcing"` with more than one candidate would make podman prompt on a
//! terminal; Wharf never prompts, so there it refuses the ambiguous name and lists the
//! candidates. Without a terminal podman acts as in permissive mode, and so does Wharf. Looking
//! in the local store first (what `FROM`, `kiln from` and `berth run` do) is the caller's part:
//! `pull` always goes to a registry, as `buildah pull` and `podman pull` do.

use crate::error::{RegistryError, Result};
use crate::registries_conf::RegistriesConf;

/// How a short name was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The fully-qualified names to try, in order (the first that a registry has wins).
    pub candidates: Vec<String>,
    /// What decided the candidates, for messages: "fully qualified", "alias in FILE", ...
    pub rationale: String,
}

/// `short-name-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortNameMode {
    Disabled,
    Permissive,
    Enforcing,
}

impl ShortNameMode {
    /// The mode of a configuration (`enforcing` when unset, as containers/image defaults).
    pub fn of(conf: &RegistriesConf) -> Result<Self> {
        match conf.short_name_mode.as_deref() {
            None | Some("" | "enforcing") => Ok(Self::Enforcing),
            Some("permissive") => Ok(Self::Permissive),
            Some("disabled") => Ok(Self::Disabled),
            Some(other) => Err(RegistryError::BadConfig {
                path: conf.files.last().cloned().unwrap_or_default(),
                what: format!(
                    "invalid short-name-mode {other:?} (expected enforcing, permissive or disabled)"
                ),
            }),
        }
    }
}

/// Whether `name` is a short name: its first component is not a registry host (no `.` or `:`,
/// not `localhost`).
pub fn is_short_name(name: &str) -> bool {
    wharf_oci::Reference::is_short_name(name)
}

/// Whether stdin and stdout are both terminals (podman would prompt there).
pub fn interactive() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Resolves `name` with `conf`. `interactive` says whether stdin and stdout are terminals.
pub fn resolve(name: &str, conf: &RegistriesConf, interactive: bool) -> Result<Resolved> {
    if !is_short_name(name) {
        return Ok(Resolved {
            candidates: vec![name.to_owned()],
            rationale: "fully-qualified name".to_owned(),
        });
    }
    // The alias table is keyed by repository; a tag or digest carries over.
    let split = name.find('@').or_else(|| {
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        name[slash..].rfind(':').map(|i| slash + i)
    });
    let (repo, suffix) = split.map_or((name, ""), |i| name.split_at(i));
    if let Some(alias) = conf.resolve_alias(repo) {
        return Ok(Resolved {
            candidates: vec![format!("{alias}{suffix}")],
            rationale: format!("alias {repo:?} = {alias:?}"),
        });
    }
    let files = || {
        if conf.files.is_empty() {
            "no registries.conf was found".to_owned()
        } else {
            conf.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if conf.unqualified_search_registries.is_empty() {
        return Err(RegistryError::ShortName {
            name: name.to_owned(),
            what: format!(
                "it is no alias and no unqualified-search-registries are defined (read: {}); \
                 hint: use a fully-qualified name such as docker.io/library/{name}",
                files()
            ),
        });
    }
    let candidates: Vec<String> = conf
        .unqualified_search_registries
        .iter()
        .map(|r| format!("{}/{name}", r.trim_end_matches('/')))
        .collect();
    if candidates.len() > 1 && interactive && ShortNameMode::of(conf)? == ShortNameMode::Enforcing {
        return Err(RegistryError::ShortName {
            name: name.to_owned(),
            what: format!(
                "short-name-mode is enforcing and the name is ambiguous: it may be {} \
                 (read: {}); hint: use one of these fully-qualified names or add an [aliases] entry",
                candidates.join(" or "),
                files()
            ),
        });
    }
    Ok(Resolved {
        candidates,
        rationale: "unqualified-search-registries".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> RegistriesConf {
        RegistriesConf::parse(std::path::Path::new("/r.conf"), text).unwrap()
    }

    #[test]
    fn aliases_then_search_registries() {
        let c = conf(
            "unqualified-search-registries = [\"a.example\", \"b.example:5000\"]\n\
             [aliases]\n\"app\" = \"quay.io/team/app\"\n",
        );
        assert_eq!(
            resolve("busybox:1.36", &c, false).unwrap().candidates,
            ["a.example/busybox:1.36", "b.example:5000/busybox:1.36"]
        );
        assert_eq!(
            resolve("app:v2", &c, true).unwrap().candidates,
            ["quay.io/team/app:v2"]
        );
        assert_eq!(
            resolve("127.0.0.1:5000/x", &c, true).unwrap().candidates,
            ["127.0.0.1:5000/x"]
        );
        // Enforcing (the default) refuses the ambiguity on a terminal only.
        let e = resolve("busybox", &c, true).unwrap_err().to_string();
        assert!(
            e.contains("a.example/busybox or b.example:5000/busybox"),
            "{e}"
        );
        let e = resolve("busybox", &RegistriesConf::default(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no unqualified-search-registries"), "{e}");
        let p = conf(
            "short-name-mode = \"permissive\"\nunqualified-search-registries = [\"a\", \"b\"]\n",
        );
        assert_eq!(resolve("x", &p, true).unwrap().candidates.len(), 2);
    }
}
