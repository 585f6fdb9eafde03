//! Where the containers-* configuration files live. Taken from the environment once, and
//! constructible by hand so that tests (and callers with `--root`-like overrides) never depend on
//! the real home directory.

use std::path::PathBuf;

/// The environment the configuration lookups depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConfigPaths {
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (defaults to `$HOME/.config`).
    pub xdg_config_home: Option<PathBuf>,
    /// `$REGISTRY_AUTH_FILE`.
    pub registry_auth_file: Option<PathBuf>,
    /// `$CONTAINERS_REGISTRIES_CONF`.
    pub registries_conf: Option<PathBuf>,
    /// `$DOCKER_CONFIG` (a directory holding `config.json`).
    pub docker_config: Option<PathBuf>,
    /// The system configuration directory, `/etc` unless a test moves it.
    pub etc: PathBuf,
    /// The short-name alias cache podman and buildah write: `/var/cache/containers/
    /// short-name-aliases.conf` for root, `$HOME/.cache/containers/short-name-aliases.conf`
    /// otherwise.
    pub alias_cache: Option<PathBuf>,
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl ConfigPaths {
    /// The paths of the current process's environment.
    pub fn from_env() -> Self {
        Self {
            home: var("HOME"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            registries_conf: var("CONTAINERS_REGISTRIES_CONF"),
            docker_config: var("DOCKER_CONFIG"),
            etc: PathBuf::from("/etc"),
            alias_cache: if is_root() {
                Some(PathBuf::from(
                    "/var/cache/containers/short-name-aliases.conf",
                ))
            } else {
                var("HOME").map(|h| h.join(".cache/containers/short-name-aliases.conf"))
            },
        }
    }

    /// Paths rooted in one directory: `home` is `<dir>/home`, `/etc` is `<dir>/etc`, nothing
    /// else set. For tests.
    pub fn isolated(dir: &std::path::Path) -> Self {
        Self {
            home: Some(dir.join("home")),
            etc: dir.join("etc"),
            ..Self::default()
        }
    }

    /// `$XDG_CONFIG_HOME` or `$HOME/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        self.xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
    }

    /// The auth files to read, in the order containers-auth.json(5) gives, when no `--authfile`
    /// was passed: `$REGISTRY_AUTH_FILE` alone if set; otherwise
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json`, then
    /// Docker's `config.json` and the legacy `~/.dockercfg`.
    pub fn auth_files(&self) -> Vec<AuthFileLocation> {
        let mut out = Vec::new();
        if let Some(f) = &self.registry_auth_file {
            out.push(AuthFileLocation::containers(f.clone()));
        } else {
            if let Some(d) = &self.xdg_runtime_dir {
                out.push(AuthFileLocation::containers(d.join("containers/auth.json")));
            }
            if let Some(c) = self.config_home() {
                out.push(AuthFileLocation::containers(c.join("containers/auth.json")));
            }
        }
        if let Some(d) = &self.docker_config {
            out.push(AuthFileLocation::containers(d.join("config.json")));
        } else if let Some(h) = &self.home {
            out.push(AuthFileLocation::containers(h.join(".docker/config.json")));
            out.push(AuthFileLocation {
                path: h.join(".dockercfg"),
                legacy: true,
            });
        }
        out
    }

    /// The file `login` writes when no `--authfile` was passed: `$REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, else `$XDG_CONFIG_HOME/containers/auth.json`.
    pub fn default_auth_file(&self) -> Option<PathBuf> {
        self.registry_auth_file
            .clone()
            .or_else(|| {
                self.xdg_runtime_dir
                    .as_ref()
                    .map(|d| d.join("containers/auth.json"))
            })
            .or_else(|| self.config_home().map(|c| c.join("containers/auth.json")))
    }

    /// The per-host certificate directories, in lookup order: the user's
    /// `$XDG_CONFIG_HOME/containers/certs.d/<host>`, then `/etc/containers/certs.d/<host>` and
    /// `/etc/docker/certs.d/<host>`. The first one that exists is used.
    pub fn cert_dirs(&self, host: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Some(c) = self.config_home() {
            out.push(c.join("containers/certs.d").join(host));
        }
        out.push(self.etc.join("containers/certs.d").join(host));
        out.push(self.etc.join("docker/certs.d").join(host));
        out
    }
}

/// One auth file to consult and its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFileLocation {
    pub path: PathBuf,
    /// `~/.dockercfg`: the `auths` object is the whole file.
    pub legacy: bool,
}

impl AuthFileLocation {
    pub fn containers(path: PathBuf) -> Self {
        Self {
            path,
            legacy: false,
        }
    }
}
