//! A real OpenSSH server on a free loopback port, with its own host key and one client key
//! in its own `authorized_keys`, plus an `ssh-agent` holding that client key: what a test of
//! git-over-ssh (`ADD git@127.0.0.1:…` with `kiln build --ssh default`) needs, and nothing of
//! the machine's ssh configuration (`/etc/ssh` is never read, `~/.ssh` never written).
//!
//! `sshd` runs as the calling user (root in CI): it then accepts logins as that user only,
//! with the client key only. Both processes are killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SSHD: &str = "/usr/sbin/sshd";

/// A running `sshd` and an agent holding the key it accepts.
pub struct Sshd {
    dir: tempfile::TempDir,
    server: Child,
    agent_pid: Option<u32>,
    port: u16,
    user: String,
}

fn run(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "sshd helper: {cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Sshd {
    /// Starts the server and the agent, or `None` (after `SKIP:`) when `openssh-server` is
    /// missing (`apt-get install openssh-server`).
    pub fn start() -> Option<Self> {
        if !Path::new(SSHD).is_file() {
            eprintln!("SKIP: {SSHD} is missing (apt-get install openssh-server)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("wharf-sshd")
            .tempdir_in("/tmp")
            .ok()?;
        let d = dir.path();
        for (name, kind) in [("host_key", "ed25519"), ("client_key", "ed25519")] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-C", "wharf-test", "-f"])
                .arg(d.join(name)))?;
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).ok()?;
        let user = run(Command::new("id").arg("-un"))?.trim().to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let config = format!(
            "ListenAddress 127.0.0.1:{port}\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
             PidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nAllowUsers {user}\nLogLevel ERROR\n",
            host = d.join("host_key").display(),
            auth = d.join("authorized_keys").display(),
        );
        std::fs::write(d.join("sshd_config"), config).ok()?;
        // sshd as root wants its privilege-separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let server = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("sshd.log")).ok()?)
            .spawn()
            .ok()?;
        let mut s = Sshd {
            dir,
            server,
            agent_pid: None,
            port,
            user,
        };
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // The agent, on a socket of its own; `-s` prints its pid for the drop.
        let out = run(Command::new("ssh-agent")
            .arg("-s")
            .arg("-a")
            .arg(s.agent_socket()))?;
        s.agent_pid = out
            .split(';')
            .find_map(|p| p.trim().strip_prefix("SSH_AGENT_PID="))
            .and_then(|p| p.parse().ok());
        run(Command::new("ssh-add")
            .arg("-q")
            .arg(s.dir.path().join("client_key"))
            .env("SSH_AUTH_SOCK", s.agent_socket()))?;
        Some(s)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user the server accepts (the one running the test).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The agent's socket, holding the accepted key.
    pub fn agent_socket(&self) -> PathBuf {
        self.dir.path().join("agent.sock")
    }

    /// The server's log (errors only), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        if let Some(pid) = self.agent_pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}
