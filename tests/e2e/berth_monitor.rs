//! The end of a detached container, rootless: whoever notices it (the container's monitor, or
//! a later command when the monitor was killed), everything a container holds is released —
//! the record (`--rm`), the anonymous volumes, the network helper and its published port, and
//! a state that no longer says `running`.

use std::path::{Path, PathBuf};

use crate::berth::{Env, setup, text, wait_for};

/// The image `volimg`: busybox with `VOLUME /data`.
fn import_volume_image(env: &Env) {
    env.import("volimg", &["VOLUME /data"], |rootfs| {
        std::fs::create_dir_all(rootfs.join("data")).unwrap();
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The pid of the container's network helper (pasta or slirp4netns), once it runs.
fn helper_pid(dir: &Path) -> i32 {
    let file = dir.join("network.pid");
    wait_for("the network helper's pid file", || file.is_file());
    std::fs::read_to_string(&file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap()
}

fn container_dir(env: &Env, out: &std::process::Output) -> PathBuf {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    env.root.join("containers").join(id)
}

#[test]
fn detached_rm_container_that_exits_by_itself_leaves_nothing() {
    let env = setup();
    import_volume_image(&env);
    for rt in ["embedded", "runc"] {
        let port = free_port();
        let publish = format!("127.0.0.1:{port}:8080");
        let out = env.berth(&[
            "run",
            "-d",
            "--rm",
            "--runtime",
            rt,
            "--network",
            "pasta",
            "-p",
            &publish,
            "volimg",
            "sh",
            "-c",
            "sleep 1",
        ]);
        let dir = container_dir(&env, &out);
        let helper = helper_pid(&dir);
        assert!(process_alive(helper), "{rt}: the network helper runs");
        wait_for("the container to remove itself", || !dir.exists());
        assert!(
            !process_alive(helper),
            "{rt}: the network helper {helper} outlived its container"
        );
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "{rt}: published port {port} is still taken"
        );
        let volumes = text(&env.berth(&["volume", "ls", "-q"]).stdout);
        assert_eq!(volumes.trim(), "", "{rt}: anonymous volume left behind");
        assert!(env.containers().is_empty(), "{rt}: {:?}", env.containers());
        let ps = text(&env.berth(&["ps", "-a", "-q"]).stdout);
        assert_eq!(ps.trim(), "", "{rt}");
    }
}

/// `berth run -d FLAGS --network pasta -p PORT volimg sleep SECS`, then `kill -9` of its
/// monitor: the container's directory, its network helper's pid and the monitor's pid.
fn run_detached_and_kill_monitor(env: &Env, flags: &[&str], secs: &str) -> (PathBuf, i32, i64) {
    let publish = format!("127.0.0.1:{}:8080", free_port());
    let mut args = vec!["run", "-d"];
    args.extend_from_slice(flags);
    args.extend([
        "--network",
        "pasta",
        "-p",
        &publish,
        "volimg",
        "sleep",
        secs,
    ]);
    let dir = container_dir(env, &env.berth(&args));
    let helper = helper_pid(&dir);
    let monitor = state(&dir)["monitor_pid"].as_i64().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", &monitor.to_string()])
        .status();
    (dir, helper, monitor)
}

#[test]
fn killed_monitor_state_is_corrected_and_rm_finishes() {
    let env = setup();
    import_volume_image(&env);
    // The embedded runtime's container dies with its monitor (parent-death signal): the next
    // command must record the end, stop the network helper and free the port by itself.
    let (dir, helper, _) = run_detached_and_kill_monitor(&env, &["--name", "orphan"], "300");
    let pid = state(&dir)["pid"].as_i64().unwrap();
    wait_for("the container to die with its monitor", || {
        !process_alive(i32::try_from(pid).unwrap())
    });
    let ps = text(
        &env.berth(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
            .stdout,
    );
    assert_eq!(ps.trim(), "orphan exited");
    assert_eq!(state(&dir)["status"], "exited", "state.json was corrected");
    assert!(
        !process_alive(helper),
        "the network helper of a container whose monitor was killed still runs"
    );
    let out = env.berth(&["rm", "-v", "orphan"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(env.containers().is_empty());
    let volumes = text(&env.berth(&["volume", "ls", "-q"]).stdout);
    assert_eq!(volumes.trim(), "", "rm -v removes the anonymous volume");

    // runc's container outlives a killed monitor; `rm -f` kills it and finishes the rest.
    let (dir, helper, monitor) =
        run_detached_and_kill_monitor(&env, &["--rm", "--runtime", "runc"], "317");
    wait_for("the monitor to go", || {
        !process_alive(i32::try_from(monitor).unwrap())
    });
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let out = env.berth(&["rm", "-f", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(env.containers().is_empty(), "{:?}", env.containers());
    assert!(!process_alive(helper), "rm -f stops the network helper");
    let volumes = text(&env.berth(&["volume", "ls", "-q"]).stdout);
    assert_eq!(
        volumes.trim(),
        "",
        "a --rm container's anonymous volume goes with it"
    );
    let runc_left = std::process::Command::new("pgrep")
        .args(["-fx", "sleep 317"])
        .output()
        .unwrap();
    assert!(
        text(&runc_left.stdout).trim().is_empty(),
        "the container's process still runs: {}",
        text(&runc_left.stdout)
    );
}

/// Four `berth run -d --name same IMAGE sleep 5` at once: exactly one gets the name (its ID
/// on stdout), the others fail with 125, told that the name is in use by that container.
fn one_of_concurrent_runs_gets_the_name(berth: &dyn Fn() -> std::process::Command, image: &str) {
    let children: Vec<_> = (0..4)
        .map(|_| {
            berth()
                .args(["run", "-d", "--name", "same", image, "sleep", "5"])
                .current_dir("/tmp")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let winners: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one run takes the name");
    let id = text(&winners[0].stdout).trim().to_string();
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(&format!("\"same\" is already in use by {id}")),
            "{}",
            text(&o.stderr)
        );
    }
    let ps = berth()
        .args(["ps", "-a", "--format", "{{.Names}}"])
        .output()
        .unwrap();
    assert_eq!(text(&ps.stdout).trim(), "same");
}

#[test]
fn concurrent_runs_with_one_name_give_one_container_as_root() {
    let (_tmp, root) = crate::busybox_store().expect("busybox-static is installed");
    let berth = || {
        let mut c = std::process::Command::new(crate::bin("berth"));
        c.arg("--root").arg(&root);
        c
    };
    one_of_concurrent_runs_gets_the_name(&berth, "busybox");
    // The other way round from the rootless test: a name berth holds is refused to kiln.
    let kiln = std::process::Command::new(crate::bin("kiln"))
        .arg("--root")
        .arg(&root)
        .args(["from", "--name", "same", "localhost/busybox"])
        .output()
        .unwrap();
    assert!(!kiln.status.success());
    assert!(
        text(&kiln.stderr).contains("\"same\" is already in use by"),
        "{}",
        text(&kiln.stderr)
    );
    let rm = berth().args(["rm", "-f", "same"]).output().unwrap();
    assert!(rm.status.success(), "{}", text(&rm.stderr));
}

#[test]
fn concurrent_runs_with_one_name_give_one_container() {
    let env = setup();
    let berth = || {
        let mut c = env.user.command(crate::bin("berth"));
        c.arg("--root").arg(&env.root);
        c
    };
    one_of_concurrent_runs_gets_the_name(&berth, "box");
    // kiln's working containers and berth's containers share one namespace of names.
    let kiln = env
        .user
        .command(crate::bin("kiln"))
        .arg("--root")
        .arg(&env.root)
        .args(["from", "--name", "workbench", "localhost/box"])
        .current_dir("/tmp")
        .output()
        .unwrap();
    assert!(kiln.status.success(), "{}", text(&kiln.stderr));
    let out = env.berth(&["run", "--rm", "--name", "workbench", "box", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already in use"),
        "{}",
        text(&out.stderr)
    );
}

/// As root, a runc container with a memory limit whose monitor is killed: `rm -f` kills it,
/// deletes runc's container and removes its cgroup, which neither runc (killed with nothing
/// to wait for it) nor the monitor did.
#[test]
fn killed_monitor_rm_removes_runc_and_its_cgroup_as_root() {
    let (_tmp, root) = crate::busybox_store().expect("busybox-static is installed");
    let berth = || {
        let mut c = std::process::Command::new(crate::bin("berth"));
        c.arg("--root").arg(&root);
        c
    };
    let out = berth()
        .args([
            "run",
            "-d",
            "--runtime",
            "runc",
            "--memory",
            "64m",
            "busybox",
        ])
        .args(["sleep", "319"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    let dir = root.join("containers").join(&id);
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bundle/config.json")).unwrap()).unwrap();
    let rel = spec["linux"]["cgroupsPath"]
        .as_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    let cgroup = if Path::new("/sys/fs/cgroup/cgroup.controllers").is_file() {
        Path::new("/sys/fs/cgroup").join(&rel)
    } else {
        Path::new("/sys/fs/cgroup/memory").join(&rel)
    };
    wait_for("the container's cgroup", || cgroup.is_dir());
    let monitor = state(&dir)["monitor_pid"].as_i64().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", &monitor.to_string()])
        .status();
    wait_for("the monitor to go", || {
        !process_alive(i32::try_from(monitor).unwrap())
    });
    let out = berth().args(["rm", "-f", &id]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!dir.exists(), "the container's directory is left");
    assert!(!cgroup.exists(), "{} is left", cgroup.display());
    let left = std::process::Command::new("pgrep")
        .args(["-fx", "sleep 319"])
        .output()
        .unwrap();
    assert!(
        text(&left.stdout).trim().is_empty(),
        "the container still runs"
    );
}
