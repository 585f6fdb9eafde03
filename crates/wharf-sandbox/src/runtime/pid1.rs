//! `--init` in the embedded runtime: after the container is set up, its first process forks;
//! the child executes the command while the parent stays as PID 1, written in Rust with no
//! binary in the image: it forwards signals to the command, reaps every process that is
//! reparented to it, and exits with the command's status.

use std::os::fd::OwnedFd;

use nix::sys::wait::{WaitStatus, waitpid};

use super::init::{self, InitPlan, StepError};
use super::process;
use crate::syscall::LinuxSyscall;

/// The name PID 1 shows in `/proc/1/comm`.
pub(crate) const COMM: &std::ffi::CStr = c"berth-init";

/// Runs as the container's init; never returns.
pub(crate) fn run(plan: &InitPlan, err_w: OwnedFd) -> ! {
    // Before the fork: the command could otherwise look at PID 1 before it is renamed (the
    // child's own name changes with its exec).
    let _ = nix::sys::prctl::set_name(COMM);
    match process::fork() {
        Err(source) => super::report_and_exit(
            &StepError {
                step: "forking the command under the init".into(),
                source,
                exec: false,
            },
            &err_w,
        ),
        Ok(process::Forked::Child) => {
            if plan.terminal {
                let _ = process::take_terminal_foreground();
            }
            let e = init::exec_process(&LinuxSyscall, plan);
            super::report_and_exit(&e, &err_w)
        }
        Ok(process::Forked::Parent(child)) => {
            // The exec (or the child's report) closes the pipe; our copy must not keep it open.
            drop(err_w);
            // PID 1 stays in the container: it keeps none of the caller's descriptors (it is
            // non-dumpable too, see `first_child`, so they could not be reached anyway).
            process::close_from(3);
            // PID 1 only gets the signals it handles: these handlers pass them on.
            let _ = process::forward_signals_to(child);
            process::exit_now(i32::from(reap_until(child)))
        }
    }
}

/// Reaps every child until `main` exits; its exit code (128+N when killed by signal N).
fn reap_until(main: i32) -> u8 {
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == main => return code as u8,
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == main => {
                return 128u8.wrapping_add(sig as u8);
            }
            Err(nix::errno::Errno::ECHILD) => return 125,
            _ => {}
        }
    }
}
