//! `berth run -t` in the foreground: the container's pty master comes back to berth (from the
//! embedded runtime over a socket pair, from runc over `--console-socket`); berth's terminal
//! goes raw with `-i` (restored on every exit path), input and output are relayed, and window
//! size changes follow berth's terminal.

use std::os::fd::AsFd as _;

use anyhow::Context as _;
use wharf_sandbox::console::{self, RawMode};

use crate::commands::run::{Prepared, sandbox_err};
use wharf_container::{self as container, State};

/// Whether the container's spec asks for a terminal.
pub fn wants_terminal(spec: &oci_spec::runtime::Spec) -> bool {
    spec.process()
        .as_ref()
        .and_then(oci_spec::runtime::Process::terminal)
        == Some(true)
}

pub fn foreground(p: &Prepared, interactive: bool) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    let _raw = if interactive && console::is_terminal(stdin.as_fd()) {
        Some(RawMode::enter(stdin.as_fd()).context("putting the terminal into raw mode")?)
    } else {
        None
    };
    let input = if interactive {
        Some(stdin.as_fd().try_clone_to_owned().context("dup stdin")?)
    } else {
        None
    };
    let mut stdout = std::io::stdout();
    if p.record.runtime == "embedded" {
        let mut c =
            wharf_sandbox::runtime::start(&p.bundle.spec, &p.bundle.dir).map_err(sandbox_err)?;
        let master = c
            .take_console()
            .context("the runtime did not hand over the terminal")?;
        let state = State::started(c.pid(), None);
        wharf_sandbox::runtime::forward_signals(c.pid()).map_err(sandbox_err)?;
        console::follow_window_size(stdin.as_fd(), master.as_fd()).context("window size")?;
        container::write_json(&p.dir, container::STATE, &state)?;
        console::relay(&master, input, &mut stdout).context("relaying the terminal")?;
        c.wait().map_err(sandbox_err)
    } else {
        let started = wharf_container::runtime::start_with_terminal(
            &p.dir,
            &p.record.runtime,
            &p.record.id,
            Some(stdin.as_fd()),
        )
        .map_err(super::run::container_err)?;
        let state = State::started(started.pid, None);
        wharf_sandbox::runtime::forward_signals(started.pid).map_err(sandbox_err)?;
        // SIGWINCH resizes the pty instead of being forwarded.
        console::follow_window_size(stdin.as_fd(), started.master.as_fd())
            .context("window size")?;
        container::write_json(&p.dir, container::STATE, &state)?;
        let relayed = console::relay(&started.master, input, &mut stdout);
        let code = wharf_sandbox::runtime::wait_pid(started.pid).map_err(sandbox_err);
        wharf_container::runtime::delete(&p.dir, &p.record.runtime, &p.record.id);
        relayed.context("relaying the terminal")?;
        code
    }
}
