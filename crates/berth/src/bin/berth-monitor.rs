//! `berth-monitor`: what stays of a detached container's monitor once the container runs
//! (conmon's role), small on purpose (std and rustix only: no clap, serde, tokio or threads;
//! well under 2 MB RSS). `berth container-monitor` starts the container and then executes
//! this program in its place, so the container stays its child. It copies the container's
//! output into `ctr.log` in k8s-file format (`<RFC 3339 time> stdout|stderr F|P <text>`),
//! waits for the container, and then executes `berth container-cleanup` with the exit code,
//! which records it and cleans up (one implementation for every kind of container).
//!
//! Descriptors are inherited as the standard streams, so that no raw descriptor number has to
//! be trusted: 0 is the container's stdout pipe, 1 its stderr pipe, 2 its pty master (or
//! /dev/null). Arguments are `KEY=VALUE` pairs: `dir`, `pid` (a child of this process, or
//! adopted as its subreaper) and `berth` (the program to become at the end).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsFd as _, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Pid, WaitOptions, wait};

/// A partial line longer than this is logged as a `P` entry (as conmon does).
const MAX_LINE: usize = 16 * 1024;

struct Stream {
    fd: Option<OwnedFd>,
    name: &'static str,
    partial: Vec<u8>,
}

fn main() -> ExitCode {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let (Some(dir), Some(pid)) = (
        args.get("dir").map(PathBuf::from),
        args.get("pid").and_then(|p| p.parse::<i32>().ok()),
    ) else {
        return ExitCode::from(125);
    };
    let mut streams = Vec::new();
    for (fd, name) in [
        (std::io::stdin().as_fd().try_clone_to_owned(), "stdout"),
        (std::io::stdout().as_fd().try_clone_to_owned(), "stderr"),
        (std::io::stderr().as_fd().try_clone_to_owned(), "stdout"),
    ] {
        if let Ok(fd) = fd {
            streams.push(Stream {
                fd: Some(fd),
                name,
                partial: Vec::new(),
            });
        }
    }
    // Without a log the output is still drained, or the container would block writing it.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("ctr.log"))
        .or_else(|_| std::fs::OpenOptions::new().write(true).open("/dev/null"));
    let Ok(mut log) = log else {
        return ExitCode::from(125);
    };
    let code = copy_until_exit(&mut streams, &mut log, pid);
    // The rest of a container's end (state, runtime, cgroup, network helper, unmount, `--rm`)
    // is berth's, in one place: become `berth container-cleanup` in this process's place, so
    // that `wait` and `rm` still see a live monitor until it is done.
    if let Some(berth) = args.get("berth") {
        let e = std::process::Command::new(berth)
            .arg("container-cleanup")
            .arg(&dir)
            .arg(format!("--exit-code={code}"))
            .exec();
        // berth is gone (uninstalled meanwhile): the next berth command that finds this
        // container finds its monitor gone and records the end itself.
        drop(e);
    }
    ExitCode::from(125)
}

/// Copies the container's output into the log until its process `pid` has ended and what it
/// wrote by then is logged; returns its exit code. The end is watched through a pidfd beside
/// the streams, because the streams alone may never end: a killed `runc run` leaves its
/// container running and holding them until the cleanup that follows deletes it. After the
/// end, 200 ms without data ends the drain. Without a pidfd (kernel < 5.3), the streams' end
/// and then the process's.
fn copy_until_exit(streams: &mut [Stream], log: &mut File, pid: i32) -> i32 {
    let pidfd = Pid::from_raw(pid)
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
    let drain = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 200_000_000,
    };
    let mut code = None;
    let mut buf = vec![0u8; 8192];
    loop {
        let open: Vec<usize> = (0..streams.len())
            .filter(|i| streams[*i].fd.is_some())
            .collect();
        if open.is_empty() {
            break;
        }
        let watch = pidfd.as_ref().filter(|_| code.is_none());
        let (ready, ended): (Vec<bool>, bool) = {
            let mut fds: Vec<PollFd<'_>> = open
                .iter()
                .filter_map(|i| streams[*i].fd.as_ref())
                .map(|fd| PollFd::new(fd, PollFlags::IN))
                .collect();
            if let Some(p) = watch {
                fds.push(PollFd::new(p, PollFlags::IN));
            }
            match poll(&mut fds, code.is_some().then_some(&drain)) {
                Ok(0) => break,
                Ok(_) => (
                    fds[..open.len()]
                        .iter()
                        .map(|f| !f.revents().is_empty())
                        .collect(),
                    watch.is_some() && fds.last().is_some_and(|f| !f.revents().is_empty()),
                ),
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break,
            }
        };
        for (i, r) in open.iter().zip(ready) {
            if !r {
                continue;
            }
            let s = &mut streams[*i];
            let Some(fd) = s.fd.as_ref() else { continue };
            match rustix::io::read(fd, &mut buf) {
                Ok(0) | Err(_) => s.fd = None,
                Ok(n) => lines(log, s, &buf[..n]),
            }
        }
        if ended {
            code = Some(wait_for(pid));
        }
    }
    for s in streams.iter_mut().filter(|s| !s.partial.is_empty()) {
        entry(log, s.name, "P", &s.partial);
        s.partial.clear();
    }
    code.unwrap_or_else(|| wait_for(pid))
}

/// Logs the complete lines of `data` (after what was pending), keeps the rest.
fn lines(log: &mut File, s: &mut Stream, data: &[u8]) {
    s.partial.extend_from_slice(data);
    let mut start = 0;
    while let Some(nl) = s.partial[start..].iter().position(|b| *b == b'\n') {
        let end = start + nl;
        entry(log, s.name, "F", &s.partial[start..end]);
        start = end + 1;
    }
    s.partial.drain(..start);
    if s.partial.len() > MAX_LINE {
        entry(log, s.name, "P", &s.partial);
        s.partial.clear();
    }
}

fn entry(log: &mut File, stream: &str, tag: &str, text: &[u8]) {
    let mut line = format!("{} {stream} {tag} ", now()).into_bytes();
    line.extend_from_slice(text);
    line.push(b'\n');
    let _ = log.write_all(&line);
}

/// Waits for `pid` (reaping any other child that ends meanwhile); its exit code
/// (128+N when killed by signal N).
fn wait_for(pid: i32) -> i32 {
    let Some(target) = Pid::from_raw(pid) else {
        return 125;
    };
    loop {
        // `wait`, not `waitpid(None)`: that is waitpid(0), this process group only, and a
        // container with a terminal leads its own session.
        match wait(WaitOptions::empty()) {
            Ok(Some((p, status))) if p == target => {
                if let Some(code) = status.exit_status() {
                    return code;
                }
                if let Some(sig) = status.terminating_signal() {
                    return 128 + sig;
                }
            }
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return 125,
        }
    }
}

/// The current UTC time as RFC 3339 with nanoseconds, like `berth`'s own timestamps.
fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Howard Hinnant's days-to-civil algorithm (days since 1970-01-01 to year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
    }

    #[test]
    fn lines_are_split_and_partials_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        let mut log = File::create(&path).unwrap();
        let mut s = Stream {
            fd: None,
            name: "stdout",
            partial: Vec::new(),
        };
        lines(&mut log, &mut s, b"one\ntw");
        lines(&mut log, &mut s, b"o\nthr");
        assert_eq!(s.partial, b"thr");
        let text = std::fs::read_to_string(&path).unwrap();
        let got: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(got, ["stdout F one", "stdout F two"]);
        assert!(text.starts_with(&now()[..10]), "{text}");
    }
}
