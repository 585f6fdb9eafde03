//! `registries.conf`, version 2 of containers-registries.conf(5): unqualified-search registries,
//! per-registry `insecure`/`blocked`/`location` rewrites, mirrors and short-name aliases.
//!
//! Files: see [`RegistriesConf::load`]. A drop-in replaces a `[[registry]]` of the same prefix
//! and the search list when it sets one; aliases are merged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{RegistryError, Result};
use crate::paths::ConfigPaths;

/// One `[[registry]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryEntry {
    /// What references the entry applies to; `location` when empty. `*.example.com` matches
    /// subdomains.
    #[serde(default)]
    pub prefix: String,
    /// Where the matched part is fetched from.
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default)]
    pub mirror_by_digest_only: bool,
    #[serde(default, rename = "mirror")]
    pub mirrors: Vec<MirrorEntry>,
    /// Valid only in a `[[registry.mirror]]` table; read here to refuse it as containers/image
    /// does, rather than ignore a setting the user thinks applies.
    #[serde(default)]
    pub pull_from_mirror: Option<String>,
}

/// One `[[registry.mirror]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MirrorEntry {
    pub location: String,
    #[serde(default)]
    pub insecure: bool,
    /// `all` (default), `digest-only` or `tag-only`.
    #[serde(default)]
    pub pull_from_mirror: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileV2 {
    unqualified_search_registries: Option<Vec<String>>,
    short_name_mode: Option<String>,
    #[serde(default, rename = "registry")]
    registries: Vec<RegistryEntry>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

/// `short-name-aliases.conf`: the aliases podman and buildah record after resolving a short
/// name.
#[derive(Debug, Default, Deserialize)]
struct AliasCache {
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

/// The merged configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    pub unqualified_search_registries: Vec<String>,
    pub short_name_mode: Option<String>,
    pub registries: Vec<RegistryEntry>,
    pub aliases: BTreeMap<String, String>,
    /// The files read, in order; the first names where `blocked` came from in errors.
    pub files: Vec<PathBuf>,
}

/// One place to pull an image from, in the order to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    pub host: String,
    pub repository: String,
    pub insecure: bool,
    pub mirror: bool,
}

impl RegistriesConf {
    /// Loads the configuration the environment points at, as containers/image does: the main
    /// file is `$CONTAINERS_REGISTRIES_CONF` (or `--registries-conf`), else the user's
    /// `registries.conf` if it exists, else the system one. The drop-ins of the system
    /// directory `/etc/containers/registries.conf.d` and then of the user's
    /// `~/.config/containers/registries.conf.d` follow, each in name order; when the user's own
    /// `registries.conf` is the main file, only the user's drop-ins are read
    /// (containers-registries.conf.d(5)). Missing files mean an empty configuration. Aliases
    /// recorded in the short-name alias cache (`short-name-aliases.conf`) fill in names no
    /// configuration file aliases.
    pub fn load(paths: &ConfigPaths) -> Result<Self> {
        let user_dir = paths.config_home().map(|c| c.join("containers"));
        let system_dropins = paths.etc.join("containers/registries.conf.d");
        let user_file = user_dir.as_ref().map(|d| d.join("registries.conf"));
        let user_dropins = user_dir.as_ref().map(|d| d.join("registries.conf.d"));
        let (main, dropin_dirs) = if let Some(p) = &paths.registries_conf {
            (p.clone(), vec![Some(system_dropins), user_dropins])
        } else {
            match user_file {
                Some(u) if u.exists() => (u, vec![user_dropins]),
                _ => (
                    paths.etc.join("containers/registries.conf"),
                    vec![Some(system_dropins), user_dropins],
                ),
            }
        };
        let mut conf = Self::default();
        if main.exists() {
            conf.merge_file(&main)?;
        }
        for dir in dropin_dirs.into_iter().flatten() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                .collect();
            files.sort();
            for f in files {
                conf.merge_file(&f)?;
            }
        }
        if let Some(cache) = &paths.alias_cache
            && let Ok(text) = std::fs::read_to_string(cache)
        {
            // The cache is written by tools, not by the user: a damaged one is ignored (as
            // containers/image does) rather than failing every pull.
            if let Ok(file) = toml::from_str::<AliasCache>(&text) {
                for (k, v) in file.aliases {
                    conf.aliases.entry(k).or_insert(v);
                }
            }
        }
        Ok(conf)
    }

    /// Parses one file's text (as if read from `path`).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let mut conf = Self::default();
        conf.merge_text(path, text)?;
        Ok(conf)
    }

    fn merge_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.merge_text(path, &text)
    }

    fn merge_text(&mut self, path: &Path, text: &str) -> Result<()> {
        let value: toml::Table = toml::from_str(text).map_err(|e| RegistryError::Toml {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        if value.get("registries").is_some_and(toml::Value::is_table) {
            return Err(RegistryError::BadConfig {
                path: path.to_owned(),
                what: "the v1 format ([registries.search] ...) is not supported; use version 2 (unqualified-search-registries, [[registry]])".to_owned(),
            });
        }
        let file: FileV2 =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e| RegistryError::Toml {
                    path: path.to_owned(),
                    source: Box::new(e),
                })?;
        if let Some(s) = file.unqualified_search_registries {
            self.unqualified_search_registries = s;
        }
        if file.short_name_mode.is_some() {
            self.short_name_mode = file.short_name_mode;
        }
        for mut entry in file.registries {
            if entry.pull_from_mirror.is_some() {
                return Err(RegistryError::BadConfig {
                    path: path.to_owned(),
                    what: format!(
                        "pull-from-mirror must not be set for a non-mirror registry {:?}: put it \
                         in a [[registry.mirror]] table",
                        if entry.prefix.is_empty() {
                            &entry.location
                        } else {
                            &entry.prefix
                        }
                    ),
                });
            }
            if entry.prefix.is_empty() {
                entry.prefix.clone_from(&entry.location);
            }
            if entry.prefix.is_empty() {
                return Err(RegistryError::BadConfig {
                    path: path.to_owned(),
                    what: "a [[registry]] has neither prefix nor location".to_owned(),
                });
            }
            for m in &entry.mirrors {
                match m.pull_from_mirror.as_deref() {
                    Some("digest-only" | "tag-only") if entry.mirror_by_digest_only => {
                        return Err(RegistryError::BadConfig {
                            path: path.to_owned(),
                            what: format!(
                                "mirror {:?} of {:?} sets pull-from-mirror while the registry sets \
                                 mirror-by-digest-only; use one of them",
                                m.location, entry.prefix
                            ),
                        });
                    }
                    None | Some("" | "all" | "digest-only" | "tag-only") => {}
                    Some(other) => {
                        return Err(RegistryError::BadConfig {
                            path: path.to_owned(),
                            what: format!(
                                "mirror {:?}: invalid pull-from-mirror {other:?} (expected all, \
                                 digest-only or tag-only)",
                                m.location
                            ),
                        });
                    }
                }
            }
            if entry.location.is_empty() && !entry.prefix.starts_with("*.") {
                entry.location.clone_from(&entry.prefix);
            }
            self.registries.retain(|r| r.prefix != entry.prefix);
            self.registries.push(entry);
        }
        self.aliases.extend(file.aliases);
        self.files.push(path.to_owned());
        Ok(())
    }

    /// The entry whose prefix matches `host/repository` longest, if any.
    pub fn find(&self, host: &str, repository: &str) -> Option<&RegistryEntry> {
        let name = join(host, repository);
        self.registries
            .iter()
            .filter(|r| prefix_matches(&r.prefix, &name))
            .max_by_key(|r| r.prefix.len())
    }

    /// Whether plain HTTP / unverified TLS is allowed for `host` (any entry located there, or
    /// whose prefix is the host, marked `insecure`; mirrors too).
    pub fn is_insecure(&self, host: &str) -> bool {
        self.registries.iter().any(|r| {
            (r.insecure && (host_of(&r.location) == host || prefix_matches(&r.prefix, host)))
                || r.mirrors
                    .iter()
                    .any(|m| m.insecure && host_of(&m.location) == host)
        })
    }

    /// Where to pull `host/repository` from: the mirrors that apply, then the (possibly
    /// rewritten) primary location. A blocked registry is an error.
    pub fn pull_sources(
        &self,
        host: &str,
        repository: &str,
        by_digest: bool,
    ) -> Result<Vec<PullSource>> {
        let name = join(host, repository);
        let Some(entry) = self.find(host, repository) else {
            return Ok(vec![PullSource {
                host: host.to_owned(),
                repository: repository.to_owned(),
                insecure: false,
                mirror: false,
            }]);
        };
        if entry.blocked {
            return Err(RegistryError::Blocked {
                registry: name,
                path: self.files.first().cloned().unwrap_or_default(),
            });
        }
        // A wildcard prefix matches the host: that is the part a location replaces (as
        // containers/image's refMatchingSubdomainPrefix), so `blah.example.com/foo` with a mirror
        // `mirror:5000/x` is pulled as `mirror:5000/x/foo`.
        let matched = if entry.prefix.starts_with("*.") {
            host.len()
        } else {
            entry.prefix.len()
        };
        let rewrite = |location: &str| -> String { format!("{location}{}", &name[matched..]) };
        let mut out = Vec::new();
        for m in &entry.mirrors {
            let ok = match m.pull_from_mirror.as_deref() {
                Some("digest-only") => by_digest,
                Some("tag-only") => !by_digest,
                _ => by_digest || !entry.mirror_by_digest_only,
            };
            if ok {
                out.push(split(&rewrite(&m.location), m.insecure, true));
            }
        }
        let primary = if entry.location.is_empty() {
            name.clone()
        } else {
            rewrite(&entry.location)
        };
        out.push(split(&primary, entry.insecure, false));
        Ok(out)
    }

    /// The `[aliases]` value for a short name.
    pub fn resolve_alias(&self, short_name: &str) -> Option<&str> {
        self.aliases.get(short_name).map(String::as_str)
    }
}

fn join(host: &str, repository: &str) -> String {
    if repository.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{repository}")
    }
}

fn host_of(location: &str) -> &str {
    location.split('/').next().unwrap_or(location)
}

fn split(name: &str, insecure: bool, mirror: bool) -> PullSource {
    let (host, repo) = name.split_once('/').unwrap_or((name, ""));
    PullSource {
        host: host.to_owned(),
        repository: repo.to_owned(),
        insecure,
        mirror,
    }
}

/// containers-registries.conf(5): a prefix matches at a path boundary; `*.example.com` matches
/// any subdomain host.
fn prefix_matches(prefix: &str, name: &str) -> bool {
    if let Some(domain) = prefix.strip_prefix("*.") {
        let host = host_of(name);
        return host.ends_with(&format!(".{domain}"));
    }
    name == prefix
        || (name.starts_with(prefix)
            && matches!(name.as_bytes().get(prefix.len()), Some(b'/' | b':' | b'@')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = r#"
unqualified-search-registries = ["registry.example", "docker.io"]
short-name-mode = "enforcing"

[[registry]]
location = "plain.example:5000"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "internal.example/bar"
[[registry.mirror]]
location = "mirror.example/bar"
insecure = true
[[registry.mirror]]
location = "digests.example/bar"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "example.com"
blocked = true

[[registry]]
prefix = "*.wild.example"
insecure = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"#;

    fn conf() -> RegistriesConf {
        RegistriesConf::parse(Path::new("/test/registries.conf"), CONF).unwrap()
    }

    #[test]
    fn longest_prefix_rewrites_and_mirrors_come_first() {
        let c = conf();
        assert_eq!(
            c.unqualified_search_registries,
            ["registry.example", "docker.io"]
        );
        let by_tag = c.pull_sources("example.com", "foo/app", false).unwrap();
        let names: Vec<String> = by_tag
            .iter()
            .map(|s| format!("{}/{}", s.host, s.repository))
            .collect();
        assert_eq!(
            names,
            ["mirror.example/bar/app", "internal.example/bar/app"]
        );
        assert!(by_tag[0].insecure && by_tag[0].mirror && !by_tag[1].insecure);
        let by_digest = c.pull_sources("example.com", "foo/app", true).unwrap();
        assert_eq!(by_digest.len(), 3);
        assert_eq!(by_digest[1].host, "digests.example");
        // "example.com/foobar" is not under the "example.com/foo" prefix: the blocked entry wins.
        let e = c.pull_sources("example.com", "foobar", false).unwrap_err();
        assert!(
            e.to_string().contains("example.com/foobar is blocked"),
            "{e}"
        );
        // No entry: the name itself.
        let s = c.pull_sources("other.example", "a/b", false).unwrap();
        assert_eq!(
            (s[0].host.as_str(), s[0].repository.as_str()),
            ("other.example", "a/b")
        );
    }

    #[test]
    fn pull_from_mirror_is_checked_as_containers_image_does() {
        let bad = "[[registry]]\nlocation = \"r.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"sometimes\"\n";
        let e = RegistriesConf::parse(Path::new("/r.conf"), bad).unwrap_err();
        assert!(e.to_string().contains("invalid pull-from-mirror"), "{e}");
        let both = "[[registry]]\nlocation = \"r.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"tag-only\"\n";
        let e = RegistriesConf::parse(Path::new("/r.conf"), both).unwrap_err();
        assert!(e.to_string().contains("use one of them"), "{e}");
        let tag_only = "[[registry]]\nlocation = \"r.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"tag-only\"\n";
        let c = RegistriesConf::parse(Path::new("/r.conf"), tag_only).unwrap();
        assert_eq!(c.pull_sources("r.example", "a", false).unwrap().len(), 2);
        assert_eq!(c.pull_sources("r.example", "a", true).unwrap().len(), 1);
    }

    #[test]
    fn insecure_hosts_wildcards_and_aliases() {
        let c = conf();
        assert!(c.is_insecure("plain.example:5000"));
        assert!(c.is_insecure("mirror.example"));
        assert!(c.is_insecure("a.wild.example"));
        assert!(!c.is_insecure("wild.example"));
        assert!(!c.is_insecure("internal.example"));
        assert_eq!(
            c.resolve_alias("fedora"),
            Some("registry.fedoraproject.org/fedora")
        );
        let s = c.pull_sources("x.wild.example", "r", false).unwrap();
        assert_eq!(
            (s[0].host.as_str(), s[0].insecure),
            ("x.wild.example", true)
        );
        // A mirror of a wildcard prefix replaces the matched host.
        let c = RegistriesConf::parse(
            Path::new("test.conf"),
            "[[registry]]\nprefix = \"*.wild.example\"\n[[registry.mirror]]\nlocation = \"m:5000/x\"\n",
        )
        .unwrap();
        let s = c
            .pull_sources("a.b.wild.example", "team/app", false)
            .unwrap();
        assert_eq!(
            s.iter()
                .map(|s| format!("{}/{}", s.host, s.repository))
                .collect::<Vec<_>>(),
            ["m:5000/x/team/app", "a.b.wild.example/team/app"]
        );
    }

    #[test]
    fn files_and_dropins_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = ConfigPaths::isolated(dir.path());
        let etc = dir.path().join("etc/containers");
        std::fs::create_dir_all(etc.join("registries.conf.d")).unwrap();
        std::fs::write(etc.join("registries.conf"), CONF).unwrap();
        std::fs::write(
            etc.join("registries.conf.d/50-local.conf"),
            "unqualified-search-registries = [\"local.example\"]\n[[registry]]\nlocation = \"plain.example:5000\"\ninsecure = false\n[aliases]\n\"app\" = \"local.example/app\"\n",
        )
        .unwrap();
        std::fs::write(etc.join("registries.conf.d/ignored.txt"), "not toml [").unwrap();
        let c = RegistriesConf::load(&paths).unwrap();
        assert_eq!(c.unqualified_search_registries, ["local.example"]);
        assert!(!c.is_insecure("plain.example:5000"));
        assert_eq!(c.resolve_alias("app"), Some("local.example/app"));
        assert!(c.resolve_alias("fedora").is_some());
        assert_eq!(c.files.len(), 2);

        // The user's file replaces the system one; the env variable replaces both.
        let user = paths.config_home().unwrap().join("containers");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            user.join("registries.conf"),
            "unqualified-search-registries = [\"u.example\"]\n",
        )
        .unwrap();
        let c = RegistriesConf::load(&paths).unwrap();
        assert_eq!(c.unqualified_search_registries, ["u.example"]);
        let env = dir.path().join("env.conf");
        std::fs::write(&env, "[[registry]]\nprefix = \"bad\"\nlocation = [1]\n").unwrap();
        paths.registries_conf = Some(env.clone());
        let e = RegistriesConf::load(&paths).unwrap_err();
        assert!(e.to_string().contains("env.conf"), "{e}");
        std::fs::write(&env, "[registries.search]\nregistries = [\"docker.io\"]\n").unwrap();
        let e = RegistriesConf::load(&paths).unwrap_err();
        assert!(e.to_string().contains("v1 format"), "{e}");
    }

    /// containers-registries.conf.d(5): with `$CONTAINERS_REGISTRIES_CONF` (or the system file)
    /// the system drop-ins then the user's are read; with the user's own registries.conf only the
    /// user's. The alias cache fills in names no file aliases.
    #[test]
    fn dropin_dirs_follow_the_main_file_and_the_cache_comes_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = ConfigPaths::isolated(dir.path());
        let sys_d = dir.path().join("etc/containers/registries.conf.d");
        let user = paths.config_home().unwrap().join("containers");
        std::fs::create_dir_all(&sys_d).unwrap();
        std::fs::create_dir_all(user.join("registries.conf.d")).unwrap();
        std::fs::write(
            sys_d.join("10-sys.conf"),
            "[aliases]\n\"a\" = \"sys.example/a\"\n\"s\" = \"sys.example/s\"\n",
        )
        .unwrap();
        std::fs::write(
            user.join("registries.conf.d/10-user.conf"),
            "[aliases]\n\"a\" = \"user.example/a\"\n",
        )
        .unwrap();
        let cache = dir.path().join("short-name-aliases.conf");
        std::fs::write(
            &cache,
            "[aliases]\n\"a\" = \"cache.example/a\"\n\"c\" = \"cache.example/c\"\n",
        )
        .unwrap();
        paths.alias_cache = Some(cache);
        let env = dir.path().join("env.conf");
        std::fs::write(&env, "").unwrap();
        paths.registries_conf = Some(env);
        let c = RegistriesConf::load(&paths).unwrap();
        assert_eq!(c.resolve_alias("a"), Some("user.example/a"));
        assert_eq!(c.resolve_alias("s"), Some("sys.example/s"));
        assert_eq!(c.resolve_alias("c"), Some("cache.example/c"));
        paths.registries_conf = None;
        std::fs::write(user.join("registries.conf"), "").unwrap();
        let c = RegistriesConf::load(&paths).unwrap();
        assert_eq!(c.resolve_alias("a"), Some("user.example/a"));
        assert_eq!(c.resolve_alias("s"), None, "system drop-ins are not read");
    }
}
