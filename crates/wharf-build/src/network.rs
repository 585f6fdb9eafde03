//! The network of RUN steps and `kiln run`: by default a private network namespace with
//! outbound access through pasta (or slirp4netns), as buildah gives rootless builds, so that a
//! Dockerfile cannot reach services that listen only on the host's loopback (issue 11,
//! finding 6). `--network host` and `--network none` stay available.
//!
//! Starting the helper costs tens of milliseconds, so a build starts one network at its first
//! RUN that needs it and shares it among all its RUN steps (every stage, every thread), as
//! the containers of a pod share theirs; it is torn down when the build ends.

use std::net::IpAddr;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wharf_sandbox::network::{PrivateNetwork, Tool};
use wharf_sandbox::spec::NetworkMode;

use crate::error::BuildError;

/// buildah's `--network` values: `private` (the default: pasta, else slirp4netns), `pasta`,
/// `slirp4netns`, `host`, `none`. Returns the mode and the helper asked for by name.
pub fn parse_network(value: &str) -> (NetworkMode, Option<String>) {
    match value {
        "host" => (NetworkMode::Host, None),
        "none" => (NetworkMode::None, None),
        "pasta" | "slirp4netns" => (NetworkMode::Private, Some(value.to_owned())),
        _ => (NetworkMode::Private, None),
    }
}

/// The values [`parse_network`] takes, for the CLI's value parser.
pub const NETWORK_VALUES: [&str; 5] = ["private", "pasta", "slirp4netns", "host", "none"];

/// A private network's namespace file and DNS forwarder, for the spec.
#[derive(Debug, Clone)]
pub struct Joined {
    pub netns: PathBuf,
    pub dns: IpAddr,
}

impl Joined {
    fn of(net: &PrivateNetwork) -> Self {
        Self {
            netns: net.netns().to_path_buf(),
            dns: net.dns(),
        }
    }
}

/// A network and the directory holding its namespace file; the network goes first on drop,
/// then the directory.
struct Started {
    net: PrivateNetwork,
    _dir: OwnedDir,
}

/// A directory removed when dropped.
struct OwnedDir(PathBuf);

impl Drop for OwnedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `tool` (by name, or the first installed) on the new directory `dir`.
fn start(dir: &Path, tool: Option<&str>) -> Result<Started, BuildError> {
    let tool = Tool::find(tool).map_err(BuildError::from)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(BuildError::io("creating", dir))?;
    let dir = OwnedDir(dir.to_path_buf());
    let net = PrivateNetwork::start(&tool, &dir.0).map_err(BuildError::from)?;
    Ok(Started { net, _dir: dir })
}

/// The private network shared by a build's RUN steps, started on first use.
pub(crate) struct RunNetwork {
    /// Its directory: a path under the store's `tmp/` leased to this process, so that another
    /// process opening the store meanwhile does not clean it away.
    dir: PathBuf,
    tool: Option<String>,
    started: Mutex<Option<Started>>,
}

impl RunNetwork {
    pub(crate) fn new(dir: PathBuf, tool: Option<String>) -> Self {
        Self {
            dir,
            tool,
            started: Mutex::new(None),
        }
    }

    /// The network, started now if no RUN has needed it yet.
    pub(crate) fn join(&self) -> Result<Joined, BuildError> {
        // A panicking RUN thread leaves nothing half-done behind the lock.
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = started.as_ref() {
            return Ok(Joined::of(&s.net));
        }
        let s = start(&self.dir, self.tool.as_deref())?;
        let joined = Joined::of(&s.net);
        *started = Some(s);
        Ok(joined)
    }
}

/// A private network for one `kiln run`, torn down when dropped.
pub(crate) struct OwnNetwork(Started);

impl OwnNetwork {
    /// Starts one in a new directory under `parent` (the container's scratch directory).
    pub(crate) fn start(parent: &Path, tool: Option<&str>) -> Result<Self, BuildError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = parent.join(format!("net-{}-{nanos}", std::process::id()));
        start(&dir, tool).map(OwnNetwork)
    }

    pub(crate) fn joined(&self) -> Joined {
        Joined::of(&self.0.net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_values_follow_buildah() {
        assert_eq!(parse_network("private"), (NetworkMode::Private, None));
        assert_eq!(
            parse_network("slirp4netns"),
            (NetworkMode::Private, Some("slirp4netns".to_owned()))
        );
        assert_eq!(parse_network("host").0, NetworkMode::Host);
        assert_eq!(parse_network("none").0, NetworkMode::None);
        for v in NETWORK_VALUES {
            let (mode, _) = parse_network(v);
            assert_eq!(mode == NetworkMode::Private, !matches!(v, "host" | "none"));
        }
    }
}
