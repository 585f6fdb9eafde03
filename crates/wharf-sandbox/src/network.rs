//! User-mode networking for `--network private`, rootless like podman's: a network namespace
//! bound to a file in the container's directory (`DIR/netns`), connected to the host by
//! `pasta` (Debian `passt`, preferred) or `slirp4netns`, with published ports (`-p`).
//!
//! The namespace and its helper exist before the runtime starts: the spec names the file as the
//! container's network namespace (runc joins it; so does the embedded runtime, before creating
//! the user namespace), so the interface is configured before the container's command runs.
//! [`teardown`] stops the helper and unbinds the namespace once the container has exited;
//! [`PrivateNetwork`] does both for callers that share one network (a build's RUN steps).
//!
//! Neither helper lets the namespace reach the host's loopback (pasta `--no-map-gw`,
//! slirp4netns `--disable-host-loopback`, as podman): a container must not talk to services
//! bound to the host's 127.0.0.1. Name resolution goes through the helper's DNS forwarder
//! ([`Tool::dns_forwarder`]), and slirp4netns's API socket lives in the caller's private
//! [`crate::runtime_dir`].
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_sandbox::network::NetworkError> {
//! use wharf_sandbox::network::{Tool, parse_port, setup};
//! let dir = std::path::Path::new("/store/containers/c1");
//! let tool = Tool::find(None)?;
//! let ports = [parse_port("127.0.0.1:8080:80/tcp")?];
//! let netns = setup(&tool, dir, &ports)?; // DIR/netns, for the spec
//! # let _ = netns;
//! wharf_sandbox::network::teardown(dir);
//! # Ok(()) }
//! ```

use std::io::{self, BufRead as _, Read as _, Write as _};
use std::net::IpAddr;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::sys::{mount, namespace, net, process};

/// Errors of network set-up.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("invalid port mapping {spec:?} (-p/--publish): {reason}")]
    InvalidPort { spec: String, reason: String },

    #[error(
        "private networking needs pasta or slirp4netns and neither is installed; hint: \
         apt-get install passt (or slirp4netns), or use --network none or --network host"
    )]
    NoTool,

    #[error("{tool} is not installed; hint: apt-get install {package}")]
    ToolMissing {
        tool: &'static str,
        package: &'static str,
    },

    #[error("cannot create the network namespace {path}")]
    Netns {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot start {tool}")]
    Spawn {
        tool: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("{tool} failed: {message}")]
    Helper { tool: &'static str, message: String },

    #[error(transparent)]
    RuntimeDir(#[from] crate::runtime_dir::RuntimeDirError),
}

impl NetworkError {
    /// podman's exit code for its own errors.
    pub fn exit_code(&self) -> u8 {
        125
    }
}

/// `tcp` or `udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One `-p [[IP:][HOSTPORT]:]CONTAINERPORT[/PROTO]` (ports may be equal-length ranges `A-B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    /// The host address to listen on; all addresses when `None`.
    pub host_ip: Option<IpAddr>,
    /// The first host port; 0 until [`assign_host_ports`] has picked free ones for a mapping
    /// given without a host port (`-p 80`, `-p 127.0.0.1::80`).
    pub host_port: u16,
    pub container_port: u16,
    /// How many consecutive ports (1 for a single port).
    pub count: u16,
    pub proto: Proto,
}

fn port_range(spec: &str, s: &str) -> Result<(u16, u16), NetworkError> {
    let bad = |reason: String| NetworkError::InvalidPort {
        spec: spec.to_string(),
        reason,
    };
    let one = |p: &str| -> Result<u16, NetworkError> {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad(format!("{p:?} is not a port number (1-65535)")))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if b < a {
                return Err(bad(format!("the range {s:?} is reversed")));
            }
            Ok((a, b - a + 1))
        }
        None => Ok((one(s)?, 1)),
    }
}

/// Parses `-p [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]`, podman's syntax: `IP` may be
/// `[v6]`; ranges `A-B` must have the same length on both sides; without a host port (`80`,
/// `IP::80`) the host port is left 0 for [`assign_host_ports`].
pub fn parse_port(spec: &str) -> Result<PortMapping, NetworkError> {
    let bad = |reason: &str| NetworkError::InvalidPort {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, "tcp")) => (r, Proto::Tcp),
        Some((r, "udp")) => (r, Proto::Udp),
        Some((_, p)) => return Err(bad(&format!("unknown protocol {p:?} (tcp or udp)"))),
        None => (spec, Proto::Tcp),
    };
    // (IP, HOSTPORT, CONTAINERPORT), the first two possibly empty.
    let (ip, host, container) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6
            .split_once("]:")
            .ok_or_else(|| bad("expected [IPV6]:[HOSTPORT]:CONTAINERPORT"))?;
        let (host, container) = after
            .split_once(':')
            .ok_or_else(|| bad("expected [IPV6]:[HOSTPORT]:CONTAINERPORT"))?;
        (addr, host, container)
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.as_slice() {
            [ip, host, container] => (*ip, *host, *container),
            [host, container] => ("", *host, *container),
            [container] => ("", "", *container),
            _ => return Err(bad("expected [[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]")),
        }
    };
    let host_ip = Some(ip)
        .filter(|i| !i.is_empty())
        .map(|i| {
            i.parse::<IpAddr>()
                .map_err(|_| bad(&format!("{i:?} is not an IP address")))
        })
        .transpose()?;
    let (container_port, n2) = port_range(spec, container)?;
    let (host_port, n1) = if host.is_empty() {
        (0, n2)
    } else {
        port_range(spec, host)?
    };
    if n1 != n2 {
        return Err(bad("the host and container port ranges differ in length"));
    }
    if u32::from(host_port) + u32::from(n1) > 65536
        || u32::from(container_port) + u32::from(n2) > 65536
    {
        return Err(bad("the range goes past port 65535"));
    }
    Ok(PortMapping {
        host_ip,
        host_port,
        container_port,
        count: n1,
        proto,
    })
}

/// Whether `count` ports from `first` can be bound on `ip` with `proto` right now.
fn ports_free(ip: IpAddr, first: u16, count: u16, proto: Proto) -> bool {
    (0..count).all(|i| {
        let Some(port) = first.checked_add(i) else {
            return false;
        };
        match proto {
            Proto::Tcp => std::net::TcpListener::bind((ip, port)).is_ok(),
            Proto::Udp => std::net::UdpSocket::bind((ip, port)).is_ok(),
        }
    })
}

/// Gives every mapping without a host port free host ports, as podman does: the kernel picks
/// one (a bind to port 0 on the mapping's address), and for a range the ports after it must
/// be free too. The ports are released again for pasta or slirp4netns to take; another
/// program could take one in between, which the helper then reports.
pub fn assign_host_ports(ports: &mut [PortMapping]) -> Result<(), NetworkError> {
    let all = IpAddr::from([0, 0, 0, 0]);
    for i in 0..ports.len() {
        if ports[i].host_port != 0 {
            continue;
        }
        let p = &ports[i];
        let ip = p.host_ip.unwrap_or(all);
        let mut found = None;
        for _ in 0..100 {
            let probe = match p.proto {
                Proto::Tcp => std::net::TcpListener::bind((ip, 0)).and_then(|l| l.local_addr()),
                Proto::Udp => std::net::UdpSocket::bind((ip, 0)).and_then(|s| s.local_addr()),
            };
            let first = probe
                .map_err(|e| NetworkError::InvalidPort {
                    spec: format!("{}/{}", p.container_port, p.proto.name()),
                    reason: format!("no free host port on {ip}: {e}"),
                })?
                .port();
            // Also not one an earlier mapping of this container was given.
            let taken = ports[..i].iter().any(|o| {
                o.proto == p.proto
                    && first < o.host_port.saturating_add(o.count)
                    && o.host_port < first.saturating_add(p.count)
            });
            if !taken && (p.count == 1 || ports_free(ip, first, p.count, p.proto)) {
                found = Some(first);
                break;
            }
        }
        let Some(first) = found else {
            return Err(NetworkError::InvalidPort {
                spec: format!("{}/{}", p.container_port, p.proto.name()),
                reason: format!("no {} consecutive free host ports on {ip}", p.count),
            });
        };
        ports[i].host_port = first;
    }
    Ok(())
}

/// The user-mode network program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    Pasta(PathBuf),
    Slirp4netns(PathBuf),
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

impl Tool {
    /// `preferred`: `Some("pasta")`, `Some("slirp4netns")`, or `None` for pasta when installed,
    /// else slirp4netns (podman 5's order).
    pub fn find(preferred: Option<&str>) -> Result<Tool, NetworkError> {
        let pasta = || which("pasta").map(Tool::Pasta);
        let slirp = || which("slirp4netns").map(Tool::Slirp4netns);
        match preferred {
            Some("pasta") => pasta().ok_or(NetworkError::ToolMissing {
                tool: "pasta",
                package: "passt",
            }),
            Some("slirp4netns") => slirp().ok_or(NetworkError::ToolMissing {
                tool: "slirp4netns",
                package: "slirp4netns",
            }),
            _ => pasta().or_else(slirp).ok_or(NetworkError::NoTool),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Tool::Pasta(_) => "pasta",
            Tool::Slirp4netns(_) => "slirp4netns",
        }
    }

    /// The address of the helper's DNS forwarder inside the namespace, for the container's
    /// `resolv.conf`: the host's own resolver may be on its loopback (systemd-resolved,
    /// dnsmasq), which the namespace cannot reach. pasta gets podman's `--dns-forward`
    /// address; slirp4netns always forwards from 10.0.2.3.
    pub fn dns_forwarder(&self) -> IpAddr {
        match self {
            Tool::Pasta(_) => IpAddr::from(PASTA_DNS),
            Tool::Slirp4netns(_) => IpAddr::from([10, 0, 2, 3]),
        }
    }
}

/// The address pasta maps to the host's first resolver (podman's choice: link-local, so it
/// never shadows a real server).
const PASTA_DNS: [u8; 4] = [169, 254, 1, 1];

/// A private network that lives as long as the value: [`setup`] when created (without
/// published ports), [`teardown`] when dropped, for callers whose containers share one network
/// (the RUN steps of a build, `kiln run`).
#[derive(Debug)]
pub struct PrivateNetwork {
    dir: PathBuf,
    netns: PathBuf,
    dns: IpAddr,
    /// slirp4netns's `--exit-fd` peer: if this process dies without dropping the value,
    /// slirp4netns sees the pipe close and exits instead of running on alone.
    _tie: Option<std::os::fd::OwnedFd>,
}

impl PrivateNetwork {
    /// Starts `tool` on a new network namespace bound in `dir` (which must exist and stay
    /// until the value is dropped).
    pub fn start(tool: &Tool, dir: &Path) -> Result<Self, NetworkError> {
        let (netns, tie) = setup_inner(tool, dir, &[], true)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            netns,
            dns: tool.dns_forwarder(),
            _tie: tie,
        })
    }

    /// The namespace's file, for [`crate::spec::SpecOptions::network_namespace`].
    pub fn netns(&self) -> &Path {
        &self.netns
    }

    /// The DNS forwarder's address, for [`crate::spec::SpecOptions::dns_servers`].
    pub fn dns(&self) -> IpAddr {
        self.dns
    }
}

impl Drop for PrivateNetwork {
    fn drop(&mut self) {
        teardown(&self.dir);
    }
}

/// Files in the container's directory.
const NETNS: &str = "netns";
const PID: &str = "network.pid";
const LOG: &str = "network.log";

/// Creates the network namespace bound to `DIR/netns`, starts the helper on it with `ports`
/// published, and returns the namespace's path once the helper has configured it. On failure
/// nothing is left running or mounted.
pub fn setup(tool: &Tool, dir: &Path, ports: &[PortMapping]) -> Result<PathBuf, NetworkError> {
    setup_inner(tool, dir, ports, false).map(|(netns, _)| netns)
}

/// [`setup`]; with `tie`, slirp4netns also gets an `--exit-fd` whose other end is returned.
fn setup_inner(
    tool: &Tool,
    dir: &Path,
    ports: &[PortMapping],
    tie: bool,
) -> Result<(PathBuf, Option<std::os::fd::OwnedFd>), NetworkError> {
    let netns = dir.join(NETNS);
    create_netns(&netns).map_err(|source| NetworkError::Netns {
        path: netns.clone(),
        source,
    })?;
    let started = match tool {
        Tool::Pasta(program) => start_pasta(program, dir, &netns, ports).map(|()| None),
        Tool::Slirp4netns(program) => start_slirp(program, dir, &netns, ports, tie),
    };
    match started {
        Ok(tie) => Ok((netns, tie)),
        Err(e) => {
            teardown(dir);
            Err(e)
        }
    }
}

/// Creates (or truncates) `path` for writing, readable by the owner only whatever the umask:
/// the helper's log and pid file say what the container's network is doing.
fn private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode through open(2).
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

/// A fresh network namespace with `lo` up, kept alive by a bind mount on `path`.
fn create_netns(path: &Path) -> io::Result<()> {
    private_file(path)?;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    match process::fork()? {
        process::Forked::Child => {
            drop(r);
            let result = namespace::unshare(libc::CLONE_NEWNET)
                .and_then(|()| net::loopback_up())
                .and_then(|()| {
                    mount::mount(
                        Some(Path::new("/proc/self/ns/net")),
                        path,
                        None,
                        libc::MS_BIND,
                        None,
                    )
                });
            let errno = result
                .err()
                .map_or(0, |e| e.raw_os_error().unwrap_or(libc::EIO));
            let _ = nix::unistd::write(&w, &errno.to_ne_bytes());
            process::exit_now(i32::from(errno != 0));
        }
        process::Forked::Parent(pid) => {
            drop(w);
            let mut buf = [0u8; 4];
            let read = std::fs::File::from(r).read_exact(&mut buf);
            let _ = process::wait_exit_code(pid);
            read?;
            match i32::from_ne_bytes(buf) {
                0 => Ok(()),
                errno => {
                    let _ = std::fs::remove_file(path);
                    Err(io::Error::from_raw_os_error(errno))
                }
            }
        }
    }
}

fn helper_failed(tool: &'static str, dir: &Path, what: &str) -> NetworkError {
    let log = std::fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    let log = log.trim();
    NetworkError::Helper {
        tool,
        message: if log.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {}", log.replace('\n', "; "))
        },
    }
}

/// pasta's options before `--netns`, as podman passes them: configure the namespace from the
/// host's addresses and routes; no access to the host's loopback through the gateway address
/// (`--no-map-gw`: a build must not reach services bound to the host's 127.0.0.1); DNS through
/// [`PASTA_DNS`]; no port forwarded but the published ones.
fn pasta_args(ports: &[PortMapping], as_root: bool) -> Vec<String> {
    let mut args: Vec<String> = ["--config-net", "--quiet", "--no-map-gw", "--dns-forward"]
        .map(String::from)
        .to_vec();
    args.push(IpAddr::from(PASTA_DNS).to_string());
    if as_root {
        args.extend(["--runas", "0:0"].map(String::from));
    }
    for proto in [Proto::Tcp, Proto::Udp] {
        let flag = if proto == Proto::Tcp { "-t" } else { "-u" };
        let mine: Vec<&PortMapping> = ports.iter().filter(|p| p.proto == proto).collect();
        if mine.is_empty() {
            args.extend([flag, "none"].map(String::from));
        }
        for p in mine {
            let range = |start: u16| {
                if p.count == 1 {
                    start.to_string()
                } else {
                    format!("{start}-{}", start + (p.count - 1))
                }
            };
            let addr = p.host_ip.map(|ip| format!("{ip}/")).unwrap_or_default();
            args.push(flag.to_owned());
            args.push(format!(
                "{addr}{}:{}",
                range(p.host_port),
                range(p.container_port)
            ));
        }
    }
    // Nothing forwarded from the namespace to the host's loopback either.
    args.extend(["-T", "none", "-U", "none"].map(String::from));
    args
}

/// pasta, as podman runs it (see [`pasta_args`]). It forks to the background once the
/// namespace is configured.
fn start_pasta(
    program: &Path,
    dir: &Path,
    netns: &Path,
    ports: &[PortMapping],
) -> Result<(), NetworkError> {
    let mut cmd = Command::new(program);
    // Started by real root, pasta would switch to `nobody`, who cannot open the namespace
    // file in the container's private directory. (In a user namespace it keeps its IDs.)
    let as_root = nix::unistd::geteuid().is_root() && !crate::overlay::in_child_userns();
    cmd.args(pasta_args(ports, as_root));
    cmd.arg("--netns")
        .arg(netns)
        .arg("--pid")
        .arg(dir.join(PID));
    let log = private_file(&dir.join(LOG)).map_err(|source| NetworkError::Spawn {
        tool: "pasta",
        source,
    })?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|source| NetworkError::Spawn {
            tool: "pasta",
            source,
        })?;
    if !status.success() {
        return Err(helper_failed(
            "pasta",
            dir,
            &format!("exited with {status}"),
        ));
    }
    Ok(())
}

/// slirp4netns's options, as podman passes them: a tap device with the usual 10.0.2.0/24
/// set-up and no access to the host's loopback through 10.0.2.2.
const SLIRP_ARGS: [&str; 4] = [
    "--configure",
    "--mtu=65520",
    "--disable-host-loopback",
    "--netns-type=path",
];

/// slirp4netns (see [`SLIRP_ARGS`]), ports added through its API socket once it is ready.
fn start_slirp(
    program: &Path,
    dir: &Path,
    netns: &Path,
    ports: &[PortMapping],
    tie: bool,
) -> Result<Option<std::os::fd::OwnedFd>, NetworkError> {
    let spawn_err = |source| NetworkError::Spawn {
        tool: "slirp4netns",
        source,
    };
    // With `tie`, slirp4netns gets the read end of a pipe whose write end stays here
    // (close-on-exec): it exits once every write end is closed, that is when we are gone.
    let exit_pipe = if tie {
        let (r, w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| spawn_err(e.into()))?;
        nix::fcntl::fcntl(
            r.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )
        .map_err(|e| spawn_err(e.into()))?;
        Some((r, w))
    } else {
        None
    };
    let (ready_r, ready_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| spawn_err(e.into()))?;
    // The write end goes to slirp4netns: clear its close-on-exec flag.
    nix::fcntl::fcntl(
        ready_w.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .map_err(|e| spawn_err(e.into()))?;
    // The API socket can publish ports and reach the namespace: in the caller's private
    // runtime directory, never in /tmp.
    let api = crate::runtime_dir::ensure()?.join(slirp_socket_name(dir));
    let log = private_file(&dir.join(LOG)).map_err(spawn_err)?;
    let mut cmd = Command::new(program);
    cmd.args(SLIRP_ARGS);
    if let Some((r, _)) = &exit_pipe {
        cmd.arg(format!("--exit-fd={}", r.as_raw_fd()));
    }
    let spawned = cmd
        .arg(format!("--ready-fd={}", ready_w.as_raw_fd()))
        .arg("--api-socket")
        .arg(&api)
        .arg(netns)
        .arg("tap0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn();
    drop(ready_w);
    let tie = exit_pipe.map(|(r, w)| {
        drop(r);
        w
    });
    let mut child = spawned.map_err(spawn_err)?;
    let _ = private_file(&dir.join(PID)).and_then(|mut f| write!(f, "{}", child.id()));
    let mut ready = [0u8; 1];
    if std::fs::File::from(ready_r).read_exact(&mut ready).is_err() {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(helper_failed(
            "slirp4netns",
            dir,
            &format!("exited before it was ready ({status})"),
        ));
    }
    for p in ports {
        for i in 0..p.count {
            slirp_hostfwd(&api, p, p.host_port + i, p.container_port + i).map_err(|message| {
                NetworkError::Helper {
                    tool: "slirp4netns",
                    message,
                }
            })?;
        }
    }
    Ok(tie)
}

fn slirp_hostfwd(api: &Path, p: &PortMapping, host: u16, guest: u16) -> Result<(), String> {
    let host_addr = p
        .host_ip
        .map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
    let request = serde_json::json!({
        "execute": "add_hostfwd",
        "arguments": {
            "proto": p.proto.name(),
            "host_addr": host_addr,
            "host_port": host,
            "guest_port": guest,
        }
    });
    let mut sock = std::os::unix::net::UnixStream::connect(api)
        .map_err(|e| format!("connecting to {}: {e}", api.display()))?;
    sock.write_all(request.to_string().as_bytes())
        .and_then(|()| sock.shutdown(std::net::Shutdown::Write))
        .map_err(|e| format!("publishing port {host}: {e}"))?;
    let mut reply = String::new();
    std::io::BufReader::new(sock)
        .read_line(&mut reply)
        .map_err(|e| format!("publishing port {host}: {e}"))?;
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap_or_default();
    match reply["error"]["desc"].as_str() {
        Some(desc) => Err(format!("publishing {host_addr}:{host}: {desc}")),
        None if reply.get("return").is_some() => Ok(()),
        None => Err(format!("publishing port {host}: unexpected reply {reply}")),
    }
}

/// Whether `pid` runs one of our helpers (the pid file may be stale and the pid reused).
fn is_helper(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| {
        let c = c.trim();
        c.starts_with("pasta") || c.starts_with("passt") || c.starts_with("slirp4netns")
    })
}

/// Stops the helper of the container in `dir` and unbinds its network namespace; does
/// nothing for a container without private networking. Best effort: called on exit paths.
pub fn teardown(dir: &Path) {
    if let Some(pid) = std::fs::read_to_string(dir.join(PID))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|p| *p > 0 && is_helper(*p))
    {
        // SIGKILL: pasta runs as PID 1 of a PID namespace of its own, where SIGTERM from
        // outside is ignored without a handler.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        // Wait (a little) until it is gone, so that its published ports are free again when
        // the container's command returns; reap slirp4netns if it is our child.
        for _ in 0..200 {
            let _ = nix::sys::wait::waitpid(
                nix::unistd::Pid::from_raw(pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
            let gone = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
                s.rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().next())
                    == Some("Z")
            });
            if gone || !is_helper(pid) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let netns = dir.join(NETNS);
    if netns.exists() {
        let _ = mount::umount(&netns, true);
        let _ = std::fs::remove_file(&netns);
    }
    let _ = std::fs::remove_file(dir.join(PID));
    let _ = std::fs::remove_file(crate::runtime_dir::path().join(slirp_socket_name(dir)));
}

/// The name of slirp4netns's API socket in the runtime directory: short (unix socket paths are
/// limited to 107 bytes) and one per network directory, from a hash of its whole path (FNV-1a:
/// the same in every process and release, so that a later `teardown` finds it).
fn slirp_socket_name(dir: &Path) -> String {
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("slirp-{hash:016x}.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_follow_podman() {
        let p = parse_port("127.0.0.1:8080:80").unwrap();
        assert_eq!(
            p,
            PortMapping {
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 8080,
                container_port: 80,
                count: 1,
                proto: Proto::Tcp
            }
        );
        let p = parse_port("5353:53/udp").unwrap();
        assert_eq!((p.host_ip, p.proto), (None, Proto::Udp));
        let p = parse_port("[::1]:9000-9001:90-91/tcp").unwrap();
        assert_eq!((p.host_port, p.container_port, p.count), (9000, 90, 2));
        assert_eq!(parse_port(":8080:80").unwrap().host_ip, None);
        // No host port: left 0 for assign_host_ports.
        let p = parse_port("80").unwrap();
        assert_eq!((p.host_ip, p.host_port, p.container_port), (None, 0, 80));
        let p = parse_port("127.0.0.1::53/udp").unwrap();
        assert_eq!((p.host_port, p.proto), (0, Proto::Udp));
        assert_eq!(p.host_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(parse_port("[::1]::90-92").unwrap().count, 3);
        for bad in [
            "a:80",
            "0",
            "1:2:3:4",
            "1.2.3.4.5:1:2",
            "8080:80/sctp",
            "0:80",
            "70000:80",
            "1-3:1-2",
            "5-3:5-3",
            "65535-65536:1-2",
        ] {
            let err = parse_port(bad).unwrap_err().to_string();
            assert!(err.contains("-p/--publish"), "{bad}: {err}");
        }
    }

    /// Neither helper may hand the namespace the host's loopback (issue 11, finding 6).
    #[test]
    fn helpers_keep_the_host_loopback_out_of_reach() {
        let args = pasta_args(&[parse_port("127.0.0.1:8080:80").unwrap()], false);
        assert!(args.iter().any(|a| a == "--no-map-gw"), "{args:?}");
        let pos = args.iter().position(|a| a == "--dns-forward").unwrap();
        assert_eq!(args[pos + 1], "169.254.1.1");
        let joined = args.join(" ");
        assert!(joined.contains("-T none -U none"), "{joined}");
        assert!(joined.contains("-t 127.0.0.1/8080:80 -u none"), "{joined}");
        assert!(!joined.contains("--runas"), "{joined}");
        assert!(pasta_args(&[], true).join(" ").contains("--runas 0:0"));
        assert!(SLIRP_ARGS.contains(&"--disable-host-loopback"));
    }

    #[test]
    fn slirp_sockets_are_one_per_directory() {
        let a = slirp_socket_name(Path::new("/store/containers/0123456789abcdef0"));
        let b = slirp_socket_name(Path::new("/store/containers/0123456789abcdef1"));
        assert_ne!(a, b);
        assert_eq!(
            a,
            slirp_socket_name(Path::new("/store/containers/0123456789abcdef0"))
        );
        assert_eq!(a.len(), "slirp-.sock".len() + 16);
    }

    #[test]
    fn missing_host_ports_get_free_ones() {
        let mut ports = vec![
            parse_port("127.0.0.1::80").unwrap(),
            parse_port("127.0.0.1::80/udp").unwrap(),
            parse_port("127.0.0.1::90-92").unwrap(),
            parse_port("127.0.0.1:1234:100").unwrap(),
        ];
        assign_host_ports(&mut ports).unwrap();
        assert_eq!(ports[3].host_port, 1234, "a given host port is kept");
        for p in &ports[..3] {
            assert_ne!(p.host_port, 0);
            assert!(ports_free(
                p.host_ip.unwrap(),
                p.host_port,
                p.count,
                p.proto
            ));
        }
        let (a, b) = (&ports[0], &ports[2]);
        assert!(b.host_port + 2 < a.host_port || a.host_port < b.host_port);
        // A port in use is never chosen.
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        for _ in 0..20 {
            let mut p = vec![parse_port("127.0.0.1::80").unwrap()];
            assign_host_ports(&mut p).unwrap();
            assert_ne!(p[0].host_port, busy_port);
        }
    }
}
