//! containers-registries.d(5): where a repository's signatures live. Every `*.yaml` file of the
//! directory is read; a scope defined twice is an error, as in containers/image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wharf_oci::Reference;

use crate::error::{Result, SignError};
use crate::image::Scopes;

/// One scope's settings (`docker:` entries and `default-docker:`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Namespace {
    pub lookaside: Option<String>,
    pub lookaside_staging: Option<String>,
    /// The old name of `lookaside`.
    pub sigstore: Option<String>,
    /// The old name of `lookaside-staging`.
    pub sigstore_staging: Option<String>,
    pub use_sigstore_attachments: Option<bool>,
}

impl Namespace {
    fn lookaside_url(&self, write: bool) -> Option<&str> {
        let staging = if write {
            self.lookaside_staging
                .as_deref()
                .or(self.sigstore_staging.as_deref())
        } else {
            None
        };
        staging
            .or(self.lookaside.as_deref())
            .or(self.sigstore.as_deref())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    default_docker: Option<Namespace>,
    #[serde(default)]
    docker: BTreeMap<String, Namespace>,
}

/// The merged configuration of a registries.d directory.
#[derive(Debug, Clone, Default)]
pub struct RegistriesD {
    pub default_docker: Option<Namespace>,
    pub docker: BTreeMap<String, Namespace>,
    /// Where it was read from (for messages); `None` when no directory exists.
    pub dir: Option<PathBuf>,
}

/// Files larger than this are refused.
const MAX_FILE: u64 = 1 << 20;

impl RegistriesD {
    /// The directory to read: `flag`, else `$HOME/.config/containers/registries.d` when it
    /// exists, else `/etc/containers/registries.d`.
    pub fn default_dir(flag: Option<&Path>) -> PathBuf {
        if let Some(f) = flag {
            return f.to_owned();
        }
        if let Some(home) = std::env::var_os("HOME") {
            let user = Path::new(&home).join(".config/containers/registries.d");
            if user.is_dir() {
                return user;
            }
        }
        PathBuf::from("/etc/containers/registries.d")
    }

    /// Reads every `*.yaml` file in `dir`; a missing directory is an empty configuration.
    pub fn load(dir: &Path) -> Result<Self> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(SignError::io("reading", dir)(e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut out = Self {
            dir: Some(dir.to_owned()),
            ..Self::default()
        };
        for path in files {
            let text = read_small(&path)?;
            let f: File =
                serde_yaml_ng::from_str(&text).map_err(|e| SignError::BadRegistriesD {
                    path: path.clone(),
                    why: e.to_string(),
                })?;
            if let Some(d) = f.default_docker {
                if out.default_docker.is_some() {
                    return Err(SignError::BadRegistriesD {
                        path,
                        why: "default-docker is defined in more than one file".into(),
                    });
                }
                out.default_docker = Some(d);
            }
            for (scope, ns) in f.docker {
                if out.docker.contains_key(&scope) {
                    return Err(SignError::BadRegistriesD {
                        path,
                        why: format!("scope {scope:?} is defined in more than one file"),
                    });
                }
                out.docker.insert(scope, ns);
            }
        }
        Ok(out)
    }

    fn candidates<'a>(&'a self, r: &Reference) -> impl Iterator<Item = &'a Namespace> {
        let scopes = Scopes::docker(r);
        let specific = std::iter::once(scopes.identity)
            .chain(scopes.namespaces)
            .filter_map(|s| self.docker.get(&s))
            .collect::<Vec<_>>();
        specific.into_iter().chain(self.default_docker.as_ref())
    }

    /// The lookaside base URL for `r` (`write`: the staging URL first), the most specific
    /// scope that sets one winning.
    /// Without one, containers/image's built-in default: `/var/lib/containers/sigstore` for
    /// root, `$HOME/.local/share/containers/sigstore` for other users.
    pub fn lookaside(&self, r: &Reference, write: bool) -> Option<String> {
        self.candidates(r)
            .find_map(|n| n.lookaside_url(write))
            .map(str::to_owned)
            .or_else(builtin_lookaside)
    }

    /// Whether sigstore signatures of `r` are attachments in its registry.
    pub fn use_sigstore_attachments(&self, r: &Reference) -> bool {
        self.candidates(r)
            .find_map(|n| n.use_sigstore_attachments)
            .unwrap_or(false)
    }
}

fn builtin_lookaside() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    // /proc/self belongs to the process's effective user.
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        return Some("file:///var/lib/containers/sigstore".into());
    }
    let home = std::env::var_os("HOME")?;
    Some(format!(
        "file://{}/.local/share/containers/sigstore",
        Path::new(&home).display()
    ))
}

fn read_small(path: &Path) -> Result<String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(SignError::io("opening", path))?;
    let mut s = String::new();
    f.take(MAX_FILE + 1)
        .read_to_string(&mut s)
        .map_err(SignError::io("reading", path))?;
    if s.len() as u64 > MAX_FILE {
        return Err(SignError::BadRegistriesD {
            path: path.to_owned(),
            why: format!("larger than {MAX_FILE} bytes"),
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_scope_wins_and_default_fills_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("a.yaml"),
            "default-docker:\n  lookaside: file:///d\ndocker:\n  example.com/ns:\n    use-sigstore-attachments: true\n  example.com/ns/app:\n    lookaside: https://s.example/x\n    lookaside-staging: file:///stage\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("ignored.txt"), "not: [yaml").expect("write");
        let c = RegistriesD::load(dir.path()).expect("load");
        let app = Reference::parse("example.com/ns/app:1").expect("ref");
        let other = Reference::parse("example.com/ns/other:1").expect("ref");
        assert_eq!(
            c.lookaside(&app, false).as_deref(),
            Some("https://s.example/x")
        );
        assert_eq!(c.lookaside(&app, true).as_deref(), Some("file:///stage"));
        assert_eq!(c.lookaside(&other, false).as_deref(), Some("file:///d"));
        assert!(c.use_sigstore_attachments(&app));
        assert!(!c.use_sigstore_attachments(&Reference::parse("x.org/y").expect("ref")));
        std::fs::write(
            dir.path().join("b.yaml"),
            "docker:\n  example.com/ns:\n    lookaside: file:///e\n",
        )
        .expect("write");
        assert!(RegistriesD::load(dir.path()).is_err());
    }
}
