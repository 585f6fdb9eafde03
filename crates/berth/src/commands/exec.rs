//! `berth exec [-i] [-t] [-d] [-e KEY=VAL] [-u USER] [-w DIR] CONTAINER CMD...`: run a command
//! in a running container: the embedded runtime joins its namespaces (see
//! [`wharf_sandbox::runtime::exec`]); an external runtime gets `RUNTIME exec`.

use std::os::fd::AsFd as _;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_cli::ExitError;
use wharf_sandbox::console::{self, RawMode};
use wharf_sandbox::runtime::ExecOptions;

use crate::cli::Cli;
use crate::commands::run::sandbox_err;
use wharf_container::runtime::exit_code;
use wharf_container::{self as container, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep standard input open (else the command reads /dev/null)
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal for the command
    #[arg(short, long)]
    pub tty: bool,
    /// Run the command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set an environment variable (`KEY=VALUE`, or `KEY` to take it from this environment)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// User (`name`, `uid`, `uid:gid`) to run as [default: the container's]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container [default: the container's]
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Container name or ID
    pub container: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let found = container::find(&store, &args.container)?;
    if !found.running() {
        return Err(ExitError {
            code: 125,
            message: format!(
                "container {} is not running (it is {}); only running containers can exec",
                found.record.name,
                found.status()
            ),
        }
        .into());
    }
    if args.detach && args.tty {
        anyhow::bail!("exec -d cannot be combined with -t: there is no terminal to attach to");
    }
    let env: Vec<String> = args.env.iter().map(|e| env_entry(e)).collect();
    let code = if found.record.runtime == "embedded" {
        embedded(&found, args, env)?
    } else {
        external(&found, args, &env)?
    };
    Ok(ExitCode::from(code))
}

fn env_entry(e: &str) -> String {
    if e.contains('=') {
        e.to_string()
    } else {
        format!("{e}={}", std::env::var(e).unwrap_or_default())
    }
}

fn embedded(found: &Found, args: &Args, env: Vec<String>) -> anyhow::Result<u8> {
    let bundle = found.dir.join("bundle");
    let spec = wharf_container::runtime::read_spec(&bundle)?;
    let relay = found.state.pid.unwrap_or_default();
    let pid = wharf_sandbox::runtime::container_init_pid(relay)
        .with_context(|| format!("container {} has no process", found.record.name))?;
    let opts = ExecOptions {
        args: args.command.clone(),
        env,
        user: args.user.clone(),
        cwd: args.workdir.as_ref().map(Into::into),
        terminal: args.tty,
    };
    let stdin = std::io::stdin();
    if !args.interactive || args.detach {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .context("opening /dev/null")?;
        let fds: &[i32] = if args.detach { &[0, 1, 2] } else { &[0] };
        for fd in fds {
            nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), *fd).context("dup2")?;
        }
    }
    let _raw = if args.tty && args.interactive && console::is_terminal(stdin.as_fd()) {
        Some(RawMode::enter(stdin.as_fd()).context("putting the terminal into raw mode")?)
    } else {
        None
    };
    let mut c = wharf_sandbox::runtime::exec(&spec, &bundle, pid, &opts).map_err(sandbox_err)?;
    if args.detach {
        println!("{}", c.pid());
        return Ok(0);
    }
    wharf_sandbox::runtime::forward_signals(c.pid()).map_err(sandbox_err)?;
    // Kept open while the window size follows it.
    let terminal = console::stdio_terminal();
    if let Some(master) = c.take_console() {
        if let Some(t) = &terminal {
            console::follow_window_size(t.as_fd(), master.as_fd()).context("window size")?;
        }
        let input = if args.interactive {
            Some(stdin.as_fd().try_clone_to_owned().context("dup stdin")?)
        } else {
            None
        };
        console::relay(&master, input, &mut std::io::stdout()).context("relaying the terminal")?;
        return c.wait().map_err(sandbox_err);
    }
    wharf_sandbox::runtime::with_terminal_signals_ignored(|| c.wait()).map_err(sandbox_err)
}

/// `RUNTIME exec` ([`wharf_container::runtime::exec_command`]), in the user and mount
/// namespaces of the `run` that started it (its monitor's).
fn external(found: &Found, args: &Args, env: &[String]) -> anyhow::Result<u8> {
    let request = wharf_container::runtime::ExecRequest {
        command: args.command.clone(),
        env: env.to_vec(),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty: args.tty,
        detach: args.detach,
    };
    let (mut cmd, process_file) = wharf_container::runtime::exec_command(found, &request)?;
    let owner = found
        .state
        .monitor_pid
        .or(found.state.pid)
        .unwrap_or_default();
    wharf_sandbox::runtime::command_in_namespaces_of(owner, &mut cmd).map_err(sandbox_err)?;
    if !args.interactive {
        cmd.stdin(std::process::Stdio::null());
    }
    if args.detach {
        // The detached process keeps the runtime's streams: on /dev/null, as with the
        // embedded runtime, or whoever reads berth's output would wait for the command.
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
    } else {
        cmd.stderr(std::process::Stdio::piped());
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting the OCI runtime {}", found.record.runtime))?;
    if let Ok(pid) = i32::try_from(child.id()) {
        wharf_sandbox::runtime::forward_signals(pid).map_err(sandbox_err)?;
    }
    // The runtime's own failures (exit 255) are told apart by their message, as podman does.
    let mut tail = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut e, &mut buf) {
            if n == 0 {
                break;
            }
            let _ = std::io::Write::write_all(&mut std::io::stderr(), &buf[..n]);
            tail.extend_from_slice(&buf[..n]);
            let excess = tail.len().saturating_sub(8192);
            tail.drain(..excess);
        }
    }
    let err = String::from_utf8_lossy(&tail);
    let status = wharf_sandbox::runtime::with_terminal_signals_ignored(|| child.wait())
        .context("waiting for the OCI runtime")?;
    drop(process_file);
    Ok(wharf_container::runtime::exec_exit_code(
        exit_code(status),
        &err,
    ))
}
