//! The YAML source file of `sync --src yaml`, in skopeo-sync(1)'s format:
//!
//! ```yaml
//! registry.example.com:
//!     images:
//!         busybox: []            # every tag
//!         redis: ["1.0", "sha256:…"]
//!     images-by-tag-regex:
//!         nginx: ^1\.13\.[12]-alpine-perl$
//!     images-by-semver:
//!         alpine: ">= 3.12.0"
//!     credentials: { username: john, password: secret }
//!     tls-verify: true
//!     cert-dir: /home/john/certs
//!     referrers: true        # also copy signatures, SBOMs, attestations (not in skopeo)
//! ```
//!
//! Unknown keys are refused (skopeo ignores them), so a misspelt `images-by-tag-regexp` is an
//! error naming the line instead of a sync that silently copies nothing. Registries and
//! repositories keep the file's order.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::error::{Result, TransportError};

/// The whole file: registry host -> what to take from it.
pub type SyncConfig = IndexMap<String, RegistrySync>;

/// One registry's entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistrySync {
    /// Repository -> tags or digests; an empty (or null) list means every tag.
    #[serde(default)]
    pub images: IndexMap<String, Option<Vec<String>>>,
    /// Repository -> regular expression a tag must match (unanchored, as Go's `MatchString`).
    #[serde(default)]
    pub images_by_tag_regex: IndexMap<String, String>,
    /// Repository -> semantic-version constraint tags must satisfy (`">= 3.12.0"`).
    #[serde(default)]
    pub images_by_semver: IndexMap<String, String>,
    #[serde(default)]
    pub credentials: Option<YamlCredentials>,
    /// `false` allows plain HTTP and unverified TLS; unset keeps `--src-tls-verify`.
    #[serde(default)]
    pub tls_verify: Option<bool>,
    #[serde(default)]
    pub cert_dir: Option<PathBuf>,
    /// Copy the images' referrers too (regclient's option; `--referrers` for every registry).
    #[serde(default)]
    pub referrers: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YamlCredentials {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// Reads and parses a sync YAML file; errors name the file, line, column and field.
pub fn load(path: &Path) -> Result<SyncConfig> {
    let text = std::fs::read_to_string(path).map_err(TransportError::io("reading", path))?;
    parse(path, &text)
}

/// Parses the text of a sync YAML file read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<SyncConfig> {
    let cfg: Option<SyncConfig> =
        serde_yaml_ng::from_str(text).map_err(|error| TransportError::SyncConfig {
            path: path.to_owned(),
            error,
        })?;
    Ok(cfg.unwrap_or_default())
}

/// A semantic-version constraint in the syntax of Masterminds/semver, which skopeo uses:
/// comparators (`=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `^`, a bare version meaning `=`) joined
/// by `,` or spaces (and), alternatives joined by `||` (or).
#[derive(Debug, Clone)]
pub struct SemverFilter {
    /// Alternatives, each a list of (negated, requirement).
    any: Vec<Vec<(bool, semver::VersionReq)>>,
}

impl SemverFilter {
    /// Parses a constraint; the error says which comparator is wrong.
    pub fn parse(constraint: &str) -> Result<Self, String> {
        let mut any = Vec::new();
        for alt in constraint.split("||") {
            // `>= 3.12` -> `>=3.12`, so that spaces only separate comparators.
            let mut squeezed = String::new();
            let mut after_op = false;
            for c in alt.chars() {
                if c.is_whitespace() && after_op {
                    continue;
                }
                after_op = matches!(c, '<' | '>' | '=' | '!' | '~' | '^');
                squeezed.push(c);
            }
            let mut all = Vec::new();
            for cmp in squeezed
                .split([',', ' ', '\t'])
                .filter(|s| !s.trim().is_empty())
            {
                let cmp = cmp.trim();
                let (negated, rest) = if let Some(r) = cmp.strip_prefix("!=") {
                    (true, format!("={}", strip_v(r)))
                } else {
                    let op_len = cmp
                        .find(|c: char| !matches!(c, '<' | '>' | '=' | '~' | '^'))
                        .unwrap_or(cmp.len());
                    let (op, v) = cmp.split_at(op_len);
                    let op = match op {
                        "" => "=",
                        "=>" => ">=",
                        "=<" => "<=",
                        "~>" => "~",
                        o => o,
                    };
                    (false, format!("{op}{}", strip_v(v)))
                };
                let req = semver::VersionReq::parse(&rest).map_err(|e| format!("{cmp:?}: {e}"))?;
                all.push((negated, req));
            }
            if all.is_empty() {
                return Err(format!("empty alternative in {constraint:?}"));
            }
            any.push(all);
        }
        Ok(Self { any })
    }

    /// Whether a tag is a version (`1`, `1.2`, `v1.2.3-rc.1`) inside the constraint.
    pub fn matches(&self, tag: &str) -> bool {
        let Some(v) = loose_version(tag) else {
            return false;
        };
        self.any
            .iter()
            .any(|all| all.iter().all(|(neg, req)| req.matches(&v) != *neg))
    }
}

fn strip_v(s: &str) -> &str {
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

/// Parses a tag as Masterminds' `NewVersion` does: an optional `v`, one to three numbers,
/// then an optional pre-release and build part; missing numbers are zero.
fn loose_version(tag: &str) -> Option<semver::Version> {
    let t = strip_v(tag);
    let end = t.find(['-', '+']).unwrap_or(t.len());
    let (nums, extra) = t.split_at(end);
    let parts: Vec<&str> = nums.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut full: Vec<&str> = parts.clone();
    full.resize(3, "0");
    semver::Version::parse(&format!("{}{extra}", full.join("."))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_skopeo_man_page_example() {
        let text = r#"
registry.example.com:
    images:
        busybox: []
        redis:
            - "1.0"
            - "2.0"
            - "sha256:0000000000000000000000000000000011111111111111111111111111111111"
    images-by-tag-regex:
        nginx: ^1\.13\.[12]-alpine-perl$
    images-by-semver:
        alpine: ">= 3.12.0"
    credentials:
        username: john
        password: this is a secret
    tls-verify: true
    cert-dir: /home/john/certs
quay.io:
    tls-verify: false
    images:
        coreos/etcd:
            - latest
"#;
        let cfg = parse(Path::new("sync.yml"), text).unwrap();
        let keys: Vec<&String> = cfg.keys().collect();
        assert_eq!(keys, ["registry.example.com", "quay.io"]);
        let r = &cfg["registry.example.com"];
        assert_eq!(r.images["busybox"], Some(vec![]));
        assert_eq!(r.images["redis"].as_ref().unwrap().len(), 3);
        assert_eq!(r.images_by_tag_regex["nginx"], r"^1\.13\.[12]-alpine-perl$");
        assert_eq!(r.credentials.as_ref().unwrap().password, "this is a secret");
        assert_eq!(r.tls_verify, Some(true));
        assert_eq!(cfg["quay.io"].tls_verify, Some(false));
    }

    #[test]
    fn a_misspelt_field_is_named_with_its_line() {
        let text = "quay.io:\n  images:\n    a: []\n  tls-verfy: false\n";
        let e = parse(Path::new("/x/sync.yml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/x/sync.yml"), "{e}");
        assert!(e.contains("tls-verfy"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let e = parse(Path::new("s.yml"), "quay.io:\n  images: [a]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("images") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn semver_constraints_as_masterminds() {
        let f = SemverFilter::parse(">= 3.12.0").unwrap();
        assert!(f.matches("3.12.0") && f.matches("3.13") && f.matches("v4.0.0"));
        assert!(!f.matches("3.11.9") && !f.matches("latest") && !f.matches("3.13.0-rc1"));
        let f = SemverFilter::parse(">1.0, <2 || =3.0.1").unwrap();
        assert!(f.matches("1.5.0") && f.matches("3.0.1"));
        assert!(!f.matches("2.0.0") && !f.matches("1.0.0"));
        let f = SemverFilter::parse("!= 1.2.3 >=1").unwrap();
        assert!(f.matches("1.2.4") && !f.matches("1.2.3"));
        assert!(SemverFilter::parse(">= banana").is_err());
    }
}
