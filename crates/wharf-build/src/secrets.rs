//! What `RUN --mount=type=secret` and `type=ssh` read from the caller, and the build's default
//! RUN network: `kiln build --secret id=X,src=FILE|env=VAR`, `--ssh default|ID=SOCKET`,
//! `--network host|none`.
//!
//! Secret values are read only when a RUN mounts them, straight into a file in the RUN's
//! scratch directory (outside the root filesystem, so never in a layer) that is removed after
//! the command; the cache key holds only whether a secret was given, never its value.

use std::path::PathBuf;

use wharf_sandbox::spec::NetworkMode;

use crate::error::BuildError;

/// Where a secret's value comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file, copied (not read into memory) when mounted.
    File(PathBuf),
    /// An environment variable of the build process.
    Env(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: the value is never formatted.
        match self {
            Self::File(p) => write!(f, "File({})", p.display()),
            Self::Env(v) => write!(f, "Env({v})"),
        }
    }
}

/// One `--secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub source: SecretSource,
}

impl Secret {
    /// Parses `id=ID[,src=FILE|source=FILE][,env=VAR][,type=file|env]` (BuildKit's and
    /// buildah's syntax). With neither `src` nor `env`, the environment variable `ID` is used
    /// when set, else the file `ID`.
    pub fn parse(spec: &str) -> Result<Self, BuildError> {
        let bad = |reason: &str| BuildError::InvalidFlag {
            flag: "secret",
            value: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (mut id, mut src, mut env, mut kind) = (None, None, None, None);
        for field in spec.split(',') {
            let (k, v) = field
                .split_once('=')
                .ok_or_else(|| bad("expected KEY=VALUE fields"))?;
            match k {
                "id" => id = Some(v.to_owned()),
                "src" | "source" => src = Some(v.to_owned()),
                "env" => env = Some(v.to_owned()),
                "type" if v == "file" || v == "env" => kind = Some(v.to_owned()),
                _ => return Err(bad(&format!("unexpected field {field:?}"))),
            }
        }
        let id = id
            .or_else(|| src.as_ref().or(env.as_ref()).cloned())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| bad("missing id="))?;
        let source = match (src, env, kind.as_deref()) {
            (Some(_), Some(_), _) => return Err(bad("src and env are exclusive")),
            (Some(s), None, Some("env")) | (None, Some(s), _) => SecretSource::Env(s),
            (Some(s), None, _) => SecretSource::File(PathBuf::from(s)),
            (None, None, Some("file")) => SecretSource::File(PathBuf::from(&id)),
            (None, None, Some("env")) => SecretSource::Env(id.clone()),
            (None, None, _) => {
                if std::env::var_os(&id).is_some() {
                    SecretSource::Env(id.clone())
                } else {
                    SecretSource::File(PathBuf::from(&id))
                }
            }
        };
        Ok(Self { id, source })
    }
}

/// One `--ssh`: an agent socket forwarded into RUN steps that mount `type=ssh,id=ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshAgent {
    pub id: String,
    pub socket: PathBuf,
}

impl SshAgent {
    /// Parses `default` (`$SSH_AUTH_SOCK`), `ID` (also `$SSH_AUTH_SOCK`) or `ID=SOCKET`.
    pub fn parse(spec: &str) -> Result<Self, BuildError> {
        let bad = |reason: &str| BuildError::InvalidFlag {
            flag: "ssh",
            value: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (id, socket) = match spec.split_once('=') {
            Some((id, path)) => (id, PathBuf::from(path)),
            None => (
                spec,
                std::env::var_os("SSH_AUTH_SOCK")
                    .map(PathBuf::from)
                    .ok_or_else(|| bad("SSH_AUTH_SOCK is not set; give ID=SOCKET"))?,
            ),
        };
        if id.is_empty() || socket.as_os_str().is_empty() {
            return Err(bad("expected default, ID or ID=SOCKET"));
        }
        if socket.to_string_lossy().contains(',') {
            return Err(bad("only one socket per id is supported"));
        }
        Ok(Self {
            id: id.to_owned(),
            socket,
        })
    }
}

/// What RUN steps get from the caller beyond the Dockerfile.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub secrets: Vec<Secret>,
    pub ssh: Vec<SshAgent>,
    /// The network of `RUN` and `RUN --network=default` (kiln's default: private, see
    /// [`crate::network`]); loopback only when `None`.
    pub network: Option<NetworkMode>,
    /// `--cap-add` / `--cap-drop` for every RUN (validated by the caller with
    /// `wharf_sandbox::spec::capability_set`).
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--add-host HOST:IP` for every RUN, as `(host, ip)`.
    pub add_hosts: Vec<(String, String)>,
    /// `--no-hosts`: RUN sees the image's own `/etc/hosts`, none generated.
    pub no_hosts: bool,
    /// How RUN steps are isolated; `None`: `oci` where it works, else the first mode that
    /// does, with a notice (see [`wharf_sandbox::isolation`]).
    pub isolation: Option<wharf_sandbox::isolation::Isolation>,
    /// `-v`, `--device`, `--dns*`, `--security-opt`, `--ulimit`, `--memory`/`--cpus`.
    pub sandbox: crate::run::RunSandbox,
}

impl RunOptions {
    pub(crate) fn secret(&self, id: &str) -> Option<&Secret> {
        self.secrets.iter().rev().find(|s| s.id == id)
    }

    pub(crate) fn ssh(&self, id: &str) -> Option<&SshAgent> {
        self.ssh.iter().rev().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_specs() {
        let s = Secret::parse("id=tok,src=/run/tok.txt").unwrap();
        assert_eq!(s.id, "tok");
        assert_eq!(s.source, SecretSource::File("/run/tok.txt".into()));
        let s = Secret::parse("id=tok,env=TOKEN").unwrap();
        assert_eq!(s.source, SecretSource::Env("TOKEN".into()));
        let s = Secret::parse("id=a,type=env,src=B").unwrap();
        assert_eq!(s.source, SecretSource::Env("B".into()));
        let s = Secret::parse("src=/x/key").unwrap();
        assert_eq!(s.id, "/x/key");
        for bad in ["", "id=", "id=a,src=b,env=c", "id=a,colour=red", "novalue"] {
            assert!(Secret::parse(bad).is_err(), "{bad}");
        }
        // Debug never shows a value, only where it comes from.
        assert_eq!(format!("{:?}", SecretSource::Env("V".into())), "Env(V)");
    }

    #[test]
    fn ssh_specs() {
        let a = SshAgent::parse("work=/tmp/agent.sock").unwrap();
        assert_eq!(a.id, "work");
        assert_eq!(a.socket, PathBuf::from("/tmp/agent.sock"));
        assert!(SshAgent::parse("=/x").is_err());
        assert!(SshAgent::parse("id=").is_err());
    }
}
