//! `berth run -t`, `berth exec` and `--init`, rootless as the test user, driven through a pty
//! that the test opens (berth's standard streams are its slave, the test holds the master).

use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd as _, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::berth::{Env, setup, text, wait_for};
use crate::{bin, have};

/// berth running with a pty of `rows`x`cols` as its terminal.
struct OnPty {
    child: Child,
    master: std::fs::File,
    slave: Option<OwnedFd>,
    out: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

fn on_pty(env: &Env, args: &[&str], rows: u16, cols: u16) -> OnPty {
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let slave = pty.slave;
    let stdio = || Stdio::from(slave.try_clone().unwrap());
    let child = env
        .user
        .command(bin("berth"))
        .arg("--root")
        .arg(&env.root)
        .args(args)
        .current_dir("/tmp")
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio())
        .spawn()
        .unwrap();
    let master = std::fs::File::from(pty.master);
    let out = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let out = Arc::clone(&out);
        let mut m = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the test drops its slave and berth has exited.
            while let Ok(n) = m.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    OnPty {
        child,
        master,
        slave: Some(slave),
        out,
        reader: Some(reader),
    }
}

impl OnPty {
    /// The output so far, without carriage returns (berth's terminal adds some when cooked).
    fn output(&self) -> String {
        text(&self.out.lock().unwrap()).replace('\r', "")
    }

    fn wait_output(&self, what: &str) {
        let start = Instant::now();
        while !self.output().contains(what) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what:?} in {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    /// Waits for berth; returns its exit code and everything it wrote.
    fn finish(mut self) -> (i32, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("berth did not exit; output so far: {:?}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader drain what is buffered, then close our slave so it sees EIO.
        std::thread::sleep(Duration::from_millis(100));
        drop(self.slave.take());
        let _ = self.reader.take().unwrap().join();
        let out = self.output();
        (status.code().unwrap_or(-1), out)
    }
}

#[test]
fn tty_is_the_containers_controlling_terminal() {
    let env = setup();
    let mut runtimes = vec!["embedded"];
    if have("runc") {
        runtimes.push("runc");
    }
    for rt in runtimes {
        let script = "tty; stty size; [ -t 0 ] && echo stdin-is-tty; exit 3";
        let p = on_pty(
            &env,
            &[
                "run",
                "--rm",
                "--runtime",
                rt,
                "-t",
                "box",
                "sh",
                "-c",
                script,
            ],
            33,
            77,
        );
        let (code, out) = p.finish();
        assert_eq!(code, 3, "{rt}: {out}");
        assert!(out.contains("/dev/pts/0\n"), "{rt}: {out:?}");
        assert!(
            out.contains("33 77\n"),
            "{rt}: size from berth's terminal: {out:?}"
        );
        assert!(out.contains("stdin-is-tty"), "{rt}: {out:?}");
    }
    assert!(env.containers().is_empty());
}

#[test]
fn tty_interactive_echoes_through_and_restores_the_terminal() {
    let env = setup();
    let mut p = on_pty(&env, &["run", "--rm", "-i", "-t", "box", "cat"], 24, 80);
    // Raw mode on berth's side: our bytes reach the container's pty unchanged, which echoes
    // them (its line discipline is in cooked mode) and cat writes the line back.
    // On Linux the master reports its slave's termios.
    let master = p.master.try_clone().unwrap();
    wait_for("raw mode", || {
        let t = nix::sys::termios::tcgetattr(master.as_fd()).unwrap();
        !t.local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON)
    });
    p.send(b"hello-tty\r");
    p.wait_output("hello-tty\nhello-tty\n");
    p.send(&[4]); // ^D: end of file for cat, through the container's line discipline
    let (code, out) = p.finish();
    assert_eq!(code, 0, "{out:?}");
    let t = nix::sys::termios::tcgetattr(master.as_fd()).unwrap();
    assert!(
        t.local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON | nix::sys::termios::LocalFlags::ECHO),
        "berth restored its terminal's mode"
    );
}

#[test]
fn tty_follows_window_size_changes() {
    let env = setup();
    let script = "trap 'stty size' WINCH; trap 'exit 7' TERM; echo ready; i=0; \
                  while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done";
    let p = on_pty(
        &env,
        &["run", "--rm", "-t", "box", "sh", "-c", script],
        24,
        80,
    );
    p.wait_output("ready");
    let (code, _) = resize_then_terminate(p);
    assert_eq!(code, 7, "SIGTERM reached the container");
}

/// Resizes the pty to 41x101, sends berth the SIGWINCH a terminal emulator would (berth is
/// not in the pty's session), waits for the command to print the new size, then sends
/// SIGTERM and returns berth's exit code and output.
fn resize_then_terminate(p: OnPty) -> (i32, String) {
    let tty = nix::unistd::ttyname(p.slave.as_ref().unwrap().as_fd()).unwrap();
    let status = std::process::Command::new("stty")
        .arg("-F")
        .arg(&tty)
        .args(["rows", "41", "cols", "101"])
        .status()
        .unwrap();
    assert!(status.success());
    let pid = p.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-WINCH", &pid])
        .status()
        .unwrap();
    p.wait_output("41 101\n");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    p.finish()
}

/// `exec -t` follows berth's window size too, with each runtime (runc's exec relays the
/// terminal itself and resizes it on the SIGWINCH berth passes on).
#[test]
fn exec_tty_follows_window_size_changes() {
    let env = setup();
    let mut runtimes = vec!["embedded"];
    if have("runc") {
        runtimes.push("runc");
    }
    for rt in runtimes {
        let name = format!("w-{rt}");
        let out = env.berth(&[
            "run",
            "-d",
            "--runtime",
            rt,
            "--name",
            &name,
            "box",
            "sleep",
            "60",
        ]);
        assert!(out.status.success(), "{rt}: {}", text(&out.stderr));
        let script = "trap 'stty size' WINCH; trap 'exit 7' TERM; stty size; echo ready; i=0; \
                      while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done";
        eprintln!("runtime {rt}");
        // exec -d returns once the command runs, not when it ends.
        let started = Instant::now();
        let out = env.berth(&["exec", "-d", &name, "sleep", "5"]);
        assert!(out.status.success(), "{rt}: {}", text(&out.stderr));
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{rt}: exec -d waited for its command"
        );
        let p = on_pty(&env, &["exec", "-t", &name, "sh", "-c", script], 24, 80);
        p.wait_output("ready");
        assert!(p.output().starts_with("24 80\n"), "{rt}: {:?}", p.output());
        let (code, out) = resize_then_terminate(p);
        assert_eq!(code, 7, "{rt}: SIGTERM reached the exec'd process: {out:?}");
        assert!(env.berth(&["rm", "-f", &name]).status.success());
    }
    assert!(env.containers().is_empty());
}

#[test]
fn tty_detached_logs_the_terminal_output() {
    let env = setup();
    let mut runtimes = vec!["embedded"];
    if have("runc") {
        runtimes.push("runc");
    }
    for rt in runtimes {
        let name = format!("t-{rt}");
        let out = env.berth(&[
            "run",
            "-d",
            "-t",
            "--runtime",
            rt,
            "--name",
            &name,
            "box",
            "sh",
            "-c",
            "tty; exit 4",
        ]);
        assert!(out.status.success(), "{rt}: {}", text(&out.stderr));
        assert_eq!(
            text(&env.berth(&["wait", &name]).stdout).trim(),
            "4",
            "{rt}"
        );
        assert_eq!(
            text(&env.berth(&["logs", &name]).stdout),
            "/dev/pts/0\r\n",
            "{rt}"
        );
        assert!(env.berth(&["rm", &name]).status.success());
    }
    assert!(env.containers().is_empty());
}

fn code_out(out: &std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn exec_joins_a_running_container() {
    let env = setup();
    let mut runtimes = vec!["embedded"];
    if have("runc") {
        runtimes.push("runc");
    }
    for rt in runtimes {
        let name = format!("ex-{rt}");
        let main = "echo main > /tmp/f; echo started; while :; do sleep 0.1; done";
        let out = env.berth(&[
            "run",
            "-d",
            "--runtime",
            rt,
            "--name",
            &name,
            "--hostname",
            "exhost",
            "box",
            "sh",
            "-c",
            main,
        ]);
        assert!(out.status.success(), "{rt}: {}", text(&out.stderr));
        let at_once = env.berth(&["exec", &name, "true"]);
        assert!(
            at_once.status.success(),
            "{rt}: exec right after run -d: {}",
            text(&at_once.stderr)
        );
        wait_for("the main process", || {
            text(&env.berth(&["logs", &name]).stdout).contains("started")
        });
        let probe = "hostname; cat /tmp/f; tr '\\0' ' ' < /proc/1/cmdline; echo; \
                     ps | awk '$1 == 1' | grep -c 'sh -c echo main'; \
                     [ $$ != 1 ] && echo not-pid-1; grep CapEff /proc/self/status; \
                     grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -d ' \\t'";
        let (code, out, err) = code_out(&env.berth(&["exec", &name, "sh", "-c", probe]));
        assert_eq!(code, 0, "{rt}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "exhost", "{rt}: same UTS namespace");
        assert_eq!(lines[1], "main", "{rt}: same root filesystem");
        assert!(lines[2].starts_with("sh -c echo main"), "{rt}: {out}");
        assert_eq!(
            lines[3], "1",
            "{rt}: ps lists the main process as pid 1: {out}"
        );
        assert_eq!(lines[4], "not-pid-1", "{rt}");
        assert_eq!(lines[5], "CapEff:\t00000000800405fb", "{rt}");
        assert_eq!(&lines[6..], ["NoNewPrivs:1", "Seccomp:2"], "{rt}");

        let (code, out, err) = code_out(&env.berth(&[
            "exec",
            "-e",
            "FOO=bar",
            "-w",
            "/tmp",
            "-u",
            "1000:1000",
            &name,
            "sh",
            "-c",
            "echo $FOO/$GREETING; pwd; id -u; grep CapEff /proc/self/status",
        ]));
        assert_eq!(code, 0, "{rt}: {err}");
        assert_eq!(
            out, "bar/hello\n/tmp\n1000\nCapEff:\t0000000000000000\n",
            "{rt}: -e over the image's env, -w, -u"
        );
        let exec = |args: &[&str]| {
            let mut all = vec!["exec", name.as_str()];
            all.extend_from_slice(args);
            code_out(&env.berth(&all))
        };
        assert_eq!(exec(&["sh", "-c", "exit 6"]).0, 6, "{rt}");
        assert_eq!(exec(&["no-such-command"]).0, 127, "{rt}");
        assert_eq!(exec(&["/etc/passwd"]).0, 126, "{rt}");

        let mut child = env
            .user
            .command(bin("berth"))
            .arg("--root")
            .arg(&env.root)
            .args(["exec", "-i", &name, "sh", "-c", "cat; echo done"])
            .current_dir("/tmp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"fed\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(text(&out.stdout), "fed\ndone\n", "{rt}: -i");

        // -t: a terminal of the size of berth's own, with or without -i.
        for extra in [&[][..], &["-i"]] {
            let mut args = vec!["exec", "-t"];
            args.extend_from_slice(extra);
            args.extend([name.as_str(), "sh", "-c", "tty; stty size; exit 2"]);
            let p = on_pty(&env, &args, 33, 77);
            let (code, out) = p.finish();
            assert_eq!(code, 2, "{rt} {extra:?}: {out}");
            assert!(out.starts_with("/dev/pts/"), "{rt} {extra:?}: {out:?}");
            assert!(out.contains("\n33 77\n"), "{rt} {extra:?}: size: {out:?}");
        }

        assert!(env.berth(&["stop", "-t", "1", &name]).status.success());
        let (code, _, err) = exec(&["true"]);
        assert_eq!(code, 125, "{rt}: {err}");
        assert!(err.contains("is not running"), "{rt}: {err}");
        assert!(env.berth(&["rm", &name]).status.success());
        // `stop` ends with SIGKILL (a shell as PID 1 ignores SIGTERM): nothing of the
        // container may outlive it.
        wait_for("the stopped container's processes to be gone", || {
            !processes_with_cmdline(main)
        });
    }
}

/// Whether any process on the host runs with exactly this `sh -c` script.
fn processes_with_cmdline(script: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == script.as_bytes()))
    })
}

#[test]
fn init_reaps_zombies_and_forwards_sigterm() {
    let env = setup();
    // With runc, `--init` is podman's catatonit (scripts/test.sh installs it).
    assert!(
        have("runc") && have("catatonit"),
        "runc and catatonit are installed on CI"
    );
    for rt in ["embedded", "runc"] {
        let (code, out, err) = env.run(&[
            "--init",
            "--runtime",
            rt,
            "box",
            "sh",
            "-c",
            "cat /proc/1/comm; echo ppid=$PPID",
        ]);
        assert_eq!(code, 0, "{rt}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_ne!(lines[0], "sh", "{rt}: PID 1 is the init");
        if rt == "embedded" {
            assert_eq!(lines[0], "berth-init");
        }
        assert_eq!(lines[1], "ppid=1", "{rt}: the command runs under PID 1");

        // The subshell's sleep is orphaned to PID 1. `sleep` as PID 1 never reaps it; the
        // init does.
        for (init, zombies) in [(false, "1"), (true, "0")] {
            let name = format!("z-{rt}-{init}");
            let mut args = vec!["run", "-d", "--runtime", rt, "--name", &name];
            if init {
                args.push("--init");
            }
            args.extend(["box", "sh", "-c", "(sleep 0.1 &); exec sleep 60"]);
            let out = env.berth(&args);
            assert!(out.status.success(), "{rt}: {}", text(&out.stderr));
            std::thread::sleep(Duration::from_millis(800));
            let count = "cat /proc/[0-9]*/stat | grep -c ') Z '";
            let out = env.berth(&["exec", &name, "sh", "-c", count]);
            assert_eq!(
                text(&out.stdout).trim(),
                zombies,
                "{rt} init={init}: {}",
                text(&out.stderr)
            );
            assert!(env.berth(&["rm", "-f", &name]).status.success());
        }

        // `sleep` as PID 1 would ignore SIGTERM; under the init it dies of it.
        let mut child = env
            .user
            .command(bin("berth"))
            .arg("--root")
            .arg(&env.root)
            .args(["run", "--rm", "--init", "--runtime", rt, "box", "sh", "-c"])
            .arg("echo ready; exec sleep 60")
            .current_dir("/tmp")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line, "ready\n", "{rt}");
        let started = Instant::now();
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(143), "{rt}");
        assert!(started.elapsed() < Duration::from_secs(10), "{rt}");
    }
    let left: Vec<_> = env
        .containers()
        .iter()
        .map(|d| {
            let files: Vec<_> = std::fs::read_dir(d)
                .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
                .unwrap_or_default();
            format!("{}: {files:?}", d.display())
        })
        .collect();
    assert!(left.is_empty(), "containers left behind: {left:#?}");
}

/// `VmHWM`/`VmRSS` of `pid` in kB.
fn memory_kb(pid: &str) -> (u64, u64, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().trim_end_matches(" kB").trim().to_string())
            .unwrap_or_default()
    };
    (
        field("VmHWM:").parse().unwrap(),
        field("VmRSS:").parse().unwrap(),
        field("Name:"),
    )
}

#[test]
fn detached_monitor_is_the_small_binary() {
    let env = setup();
    let out = env.berth(&[
        "run",
        "-d",
        "--name",
        "small",
        "box",
        "sh",
        "-c",
        "echo hi; sleep 30",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    let state = env.root.join("containers").join(&id).join("state.json");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap();
    let monitor = state["monitor_pid"].as_i64().unwrap().to_string();
    wait_for("the log", || {
        text(&env.berth(&["logs", "small"]).stdout) == "hi\n"
    });
    let (hwm, rss, name) = memory_kb(&monitor);
    eprintln!("berth-monitor {monitor}: VmHWM {hwm} kB, VmRSS {rss} kB");
    assert_eq!(
        name, "berth-monitor",
        "berth executed the small monitor in its place"
    );
    // The issue's target: under 2 MB. Linked as a static PIE (crates/berth/build.rs) it
    // measures about 1.2 MB in release and 1.4 MB in debug builds; linked dynamically, the
    // loader, libc.so and libgcc_s alone took 1.5 MB of the 1.9-2.1 MB it measured.
    let maps = std::fs::read_to_string(format!("/proc/{monitor}/maps")).unwrap();
    assert!(
        !maps.contains("libc.so") && !maps.contains("ld-linux"),
        "berth-monitor is linked statically: {maps}"
    );
    assert!(hwm < 2048, "VmHWM {hwm} kB");
    let ps = text(
        &env.berth(&["ps", "--format", "{{.Names}} {{.State}}"])
            .stdout,
    );
    assert_eq!(ps.trim(), "small running");
    assert!(env.berth(&["kill", "small"]).status.success());
    assert_eq!(text(&env.berth(&["wait", "small"]).stdout).trim(), "137");
    let ps = text(
        &env.berth(&["ps", "-a", "--format", "{{.State}} {{.ExitCode}}"])
            .stdout,
    );
    assert_eq!(ps.trim(), "exited 137");
    assert!(env.berth(&["rm", "small"]).status.success());
    assert!(env.containers().is_empty());
}
