//! Signals to a running container: `kill` (one signal) and `stop` (the container's stop
//! signal, then SIGKILL after a timeout), for whichever runtime runs it.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::ContainerError;
use crate::error::{Ctx as _, bail};
use crate::record::{Found, clean_up_after_dead_monitor, wait_exited};

/// Parses `9`, `KILL` or `SIGKILL`.
pub fn parse_signal(s: &str) -> Result<Signal, ContainerError> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n)
            .map_err(|_| ContainerError::Invalid(format!("invalid signal number {n}")));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match name.parse() {
        Ok(sig) => Ok(sig),
        Err(_) => bail!("invalid signal {s:?}"),
    }
}

/// Sends `sig` to the container's process.
pub fn signal(f: &Found, sig: Signal) -> Result<(), ContainerError> {
    let Some(pid) = f.state.pid.filter(|_| f.running()) else {
        bail!("container {} is not running", f.record.name);
    };
    // SIGKILL cannot be relayed: it ends the embedded runtime's relay process at once, and
    // the container's PID 1 then only dies through its parent-death signal. Killing the PID
    // namespace's init directly kills every process in it, whatever happened to the relay.
    let mut init_killed = false;
    if sig == Signal::SIGKILL
        && f.record.runtime == "embedded"
        && let Some(init) = wharf_sandbox::runtime::container_init_pid(pid)
    {
        init_killed = nix::sys::signal::kill(nix::unistd::Pid::from_raw(init), sig).is_ok();
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig) {
        // The relay exits as soon as its child does: it may be gone already.
        Err(nix::errno::Errno::ESRCH) if init_killed => Ok(()),
        Ok(()) => Ok(()),
        Err(e) => Err(ContainerError::Context {
            what: format!("sending {sig} to container {}", f.record.name),
            source: Box::new(e),
        }),
    }
}

/// Stops `f` (its stop signal, then SIGKILL after `timeout`) and waits until its end is
/// recorded.
pub fn stop(f: &Found, timeout: Duration) -> Result<(), ContainerError> {
    if !f.running() {
        clean_up_after_dead_monitor(f);
        return Ok(());
    }
    let sig = parse_signal(&f.record.stop_signal).unwrap_or(Signal::SIGTERM);
    signal(f, sig)?;
    let mut now = wait_exited(f, Some(timeout))?;
    if now.running() {
        signal(&now, Signal::SIGKILL)?;
        now = wait_exited(&now, None)?;
    }
    clean_up_after_dead_monitor(&now);
    Ok(())
}

/// Removes the container `f` and its files: `force` kills a running one first (else it is
/// refused), and what its end left undone is finished ([`crate::finish`]). Its anonymous
/// volumes go with it when `volumes` is asked, and always for a `--rm` container.
pub fn remove(f: &Found, force: bool, volumes: bool) -> Result<(), ContainerError> {
    let mut f = f.clone();
    if f.running() {
        if !force {
            bail!(
                "container {0} is running; hint: berth stop {0}, or berth rm -f {0}",
                f.record.name
            );
        }
        signal(&f, Signal::SIGKILL)?;
        f = wait_exited(&f, None)?;
    }
    clean_up_after_dead_monitor(&f);
    crate::runtime::remove_leftover_cgroup(&f.dir);
    // A monitor removes a --rm container itself once it has exited.
    if f.dir.exists() {
        std::fs::remove_dir_all(&f.dir).ctx(|| format!("removing {}", f.dir.display()))?;
    }
    // A `--rm` container's anonymous volumes go with it, whoever removes it.
    if volumes || f.record.remove {
        crate::record::remove_anonymous_volumes(&f.dir, &f.record);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_number_and_name() {
        for s in ["9", "KILL", "kill", "SIGKILL"] {
            assert_eq!(parse_signal(s).unwrap(), Signal::SIGKILL, "{s}");
        }
        assert_eq!(parse_signal("term").unwrap(), Signal::SIGTERM);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
