//! `berth run` resources, rootless as the unprivileged test user: named volumes (persistence,
//! copy-up from the image, `berth volume` and its in-use check), `--mount` and `--tmpfs`,
//! user-mode networking with published ports, and cgroup limits (as root, and their refusal
//! rootless on a host without delegation).

use std::path::PathBuf;

use crate::berth::{setup, text};

#[test]
fn named_volume_persists_and_is_filled_from_the_image() {
    let env = setup();
    let (code, _, err) = env.run(&["-v", "data:/data", "box", "sh", "-c", "echo one > /data/f"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = env.run(&[
        "--mount",
        "type=volume,src=data,dst=/again",
        "box",
        "cat",
        "/again/f",
    ]);
    assert_eq!((code, out.as_str()), (0, "one\n"), "{err}");
    let on_disk = env.root.join("volumes/data/_data/f");
    assert_eq!(std::fs::read_to_string(on_disk).unwrap(), "one\n");

    // First use of a new volume copies the image's content at the mount point (podman's
    // copy-up); nocopy does not.
    let (code, out, err) = env.run(&[
        "-v",
        "etc:/etc",
        "box",
        "sh",
        "-c",
        "grep -c ^root: /etc/passwd",
    ]);
    assert_eq!((code, out.as_str()), (0, "1\n"), "{err}");
    assert!(env.root.join("volumes/etc/_data/passwd").is_file());
    let (code, out, _) = env.run(&["-v", "bare:/etc:nocopy", "box", "ls", "-A", "/etc"]);
    assert_eq!((code, out.as_str()), (0, ""));

    let ls = text(&env.berth(&["volume", "ls"]).stdout);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines[0], "DRIVER   VOLUME NAME", "{ls}");
    assert_eq!(
        &lines[1..],
        ["local    bare", "local    data", "local    etc"],
        "{ls}"
    );
    let out = env.berth(&["volume", "inspect", "data"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["Name"], "data");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(
        v[0]["Mountpoint"].as_str().unwrap(),
        env.root.join("volumes/data/_data").to_str().unwrap()
    );
    assert!(v[0]["CreatedAt"].as_str().unwrap().contains('T'));
    assert!(v[0]["Labels"].is_object() && v[0]["Options"].is_object());
    assert_eq!(
        env.containers().len(),
        0,
        "--rm keeps named volumes, not containers"
    );
}

#[test]
fn volume_commands_and_in_use_refusal() {
    let env = setup();
    let out = env.berth(&["volume", "create", "--label", "app=db", "v1"]);
    assert_eq!(text(&out.stdout), "v1\n", "{}", text(&out.stderr));
    let out = env.berth(&["volume", "create", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        env.berth(&["volume", "create", "--ignore", "v1"])
            .status
            .success()
    );
    let fmt = text(
        &env.berth(&["volume", "inspect", "--format", "{{.Labels.app}}", "v1"])
            .stdout,
    );
    assert_eq!(fmt, "db\n");

    let out = env.berth(&[
        "run", "-d", "--name", "holder", "-v", "v1:/v", "box", "sleep", "60",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.berth(&["volume", "rm", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(
        err.contains("being used") && err.contains("holder"),
        "{err}"
    );
    assert!(env.root.join("volumes/v1/_data").is_dir());

    let out = env.berth(&["volume", "rm", "-f", "v1"]);
    assert_eq!(text(&out.stdout), "v1\n", "{}", text(&out.stderr));
    assert!(!env.root.join("volumes/v1").exists());
    assert_eq!(
        env.containers().len(),
        0,
        "-f removes the container using it"
    );

    let out = env.berth(&["volume", "rm", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("no volume with name"),
        "{}",
        text(&out.stderr)
    );

    env.berth(&["volume", "create", "unused"]);
    let out = env.berth(&["volume", "prune", "-f"]);
    assert_eq!(text(&out.stdout), "unused\n", "{}", text(&out.stderr));
    assert_eq!(text(&env.berth(&["volume", "ls", "-q"]).stdout), "");
}

#[test]
fn tmpfs_on_a_read_only_root_and_read_only_binds() {
    let env = setup();
    let (code, out, err) = env.run(&[
        "--read-only",
        "--tmpfs",
        "/scratch:size=2m",
        "--mount",
        "type=tmpfs,destination=/t2,tmpfs-mode=0700",
        "box",
        "sh",
        "-c",
        "echo x > /scratch/f && cat /scratch/f && grep -e ' /scratch ' -e ' /t2 ' /proc/mounts; \
         touch /nope 2>&1",
    ]);
    assert_eq!(code, 1, "touch on the read-only root fails: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "x");
    let scratch = lines.iter().find(|l| l.contains(" /scratch ")).unwrap();
    assert!(scratch.starts_with("tmpfs /scratch tmpfs rw,"), "{scratch}");
    for o in ["nosuid", "nodev", "noexec", "size=2048k"] {
        assert!(scratch.contains(o), "{o}: {scratch}");
    }
    let t2 = lines.iter().find(|l| l.contains(" /t2 ")).unwrap();
    assert!(t2.contains("mode=700") && !t2.contains("noexec"), "{t2}");
    assert!(out.contains("Read-only file system"), "{out}");

    let data = env.tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("f"), "hi\n").unwrap();
    env.user.chown(&data);
    let m = format!("type=bind,source={},target=/data,readonly", data.display());
    let (code, out, err) = env.run(&[
        "--mount",
        &m,
        "box",
        "sh",
        "-c",
        "cat /data/f; echo x > /data/g",
    ]);
    assert_ne!(code, 0);
    assert_eq!(out, "hi\n");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!data.join("g").exists());
}

#[test]
fn bad_mount_specs_are_125_naming_the_flag() {
    let env = setup();
    for (args, msg) in [
        (vec!["--mount", "type=nfs,target=/x"], "invalid --mount"),
        (
            vec!["--mount", "type=bind,source=/tmp"],
            "target= is missing",
        ),
        (vec!["--mount", "type=tmpfs,target=rel"], "must be absolute"),
        (vec!["--tmpfs", "rel"], "invalid --tmpfs"),
        (vec!["--tmpfs", "/x:bogus"], "unknown tmpfs option"),
        (vec!["-v", "bad/name:/x"], "-v/--volume"),
        (
            vec!["-v", "/tmp:/x", "--tmpfs", "/x"],
            "duplicate mount destination",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["box", "true"]);
        let (code, _, err) = env.run(&all);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert_eq!(env.containers().len(), 0, "{args:?} left a container");
    }
    assert!(!env.root.join("volumes/bad").exists());
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on 127.0.0.1:`port`, retried while the server starts; the reply's body.
fn http_get(port: u16) -> Option<String> {
    use std::io::{Read as _, Write as _};
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let mut reply = String::new();
            let _ = s.read_to_string(&mut reply);
            if let Some((_, body)) = reply.split_once("\r\n\r\n") {
                return Some(body.to_string());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}

fn network_tools() -> Vec<&'static str> {
    let tools: Vec<&str> = ["pasta", "slirp4netns"]
        .into_iter()
        .filter(|t| crate::have(t))
        .collect();
    if tools.is_empty() {
        eprintln!("SKIP: neither pasta (passt) nor slirp4netns is installed");
    }
    tools
}

#[test]
fn published_port_reaches_a_server_in_the_container() {
    let env = setup();
    let mut runtimes = vec!["embedded"];
    if crate::have("runc") {
        runtimes.push("runc");
    }
    let server = "mkdir -p /www && echo hello-$NET > /www/index.html && \
                  exec httpd -f -p 8080 -h /www";
    for tool in network_tools() {
        for rt in &runtimes {
            let port = free_port();
            let publish = format!("127.0.0.1:{port}:8080");
            let net_env = format!("NET={tool}");
            let out = env.berth(&[
                "run",
                "-d",
                "--runtime",
                rt,
                "--network",
                tool,
                "-p",
                &publish,
                "-e",
                &net_env,
                "box",
                "sh",
                "-c",
                server,
            ]);
            assert!(out.status.success(), "{tool}/{rt}: {}", text(&out.stderr));
            let id = text(&out.stdout).trim().to_string();
            let body = http_get(port);
            let logs = text(&env.berth(&["logs", &id]).stderr);
            assert_eq!(
                body.as_deref(),
                Some(format!("hello-{tool}\n").as_str()),
                "{tool}/{rt}: {logs}"
            );
            let out = env.berth(&["rm", "-f", &id]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            // The helper is gone with the container: its port is free again.
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "{tool}/{rt}: port {port} still taken"
            );
        }
    }
    assert_eq!(env.containers().len(), 0);
}

#[test]
fn private_network_has_an_interface_and_ports_need_it() {
    let env = setup();
    for tool in network_tools() {
        // Without -p too: a non-loopback interface with an IPv4 address.
        let (code, out, err) = env.run(&["--network", tool, "box", "ip", "-o", "-4", "addr"]);
        assert_eq!(code, 0, "{tool}: {err}");
        assert!(
            out.lines()
                .any(|l| !l.contains(" lo ") && l.contains("inet ")),
            "{tool}: {out}"
        );
        // Foreground with -p: the port is released when the run returns.
        let port = free_port();
        let publish = format!("127.0.0.1:{port}:80");
        let (code, _, err) = env.run(&["--network", tool, "-p", &publish, "box", "true"]);
        assert_eq!(code, 0, "{tool}: {err}");
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "{tool}"
        );
    }
    // -p alone picks a private network (podman's rootless default).
    if !network_tools().is_empty() {
        let publish = format!("127.0.0.1:{}:80", free_port());
        let (code, out, err) = env.run(&["-p", &publish, "box", "ip", "-o", "-4", "addr"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.lines().count() >= 2, "{out}");
    }
    let (code, _, err) = env.run(&["--network", "none", "-p", "8080:80", "box", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("needs a private network"), "{err}");
    let (code, _, err) = env.run(&["-p", "80/sctp", "box", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("-p/--publish"), "{err}");
    assert_eq!(env.containers().len(), 0);
}

/// `-p CONTAINERPORT` and `-p IP::CONTAINERPORT`: berth picks a free host port, as podman
/// does, records it, and shows it in `ps`, `inspect` and `port`; the server answers there.
#[test]
fn publish_without_host_port_picks_a_free_one() {
    let env = setup();
    let server = "mkdir -p /www && echo hello-$NET > /www/index.html && \
                  exec httpd -f -p 8080 -h /www";
    for tool in network_tools() {
        for (publish, shown_ip) in [("127.0.0.1::8080", "127.0.0.1"), ("8080", "0.0.0.0")] {
            let net_env = format!("NET={tool}");
            let out = env.berth(&[
                "run",
                "-d",
                "--network",
                tool,
                "-p",
                publish,
                "-p",
                "127.0.0.1::53/udp",
                "-e",
                &net_env,
                "box",
                "sh",
                "-c",
                server,
            ]);
            assert!(
                out.status.success(),
                "{tool} {publish}: {}",
                text(&out.stderr)
            );
            let id = text(&out.stdout).trim().to_string();
            let out = env.berth(&["port", &id, "8080"]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let addr = text(&out.stdout).trim().to_string();
            let port: u16 = addr
                .strip_prefix(&format!("{shown_ip}:"))
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("{tool} {publish}: berth port said {addr:?}"));
            assert_ne!(port, 8080);
            let body = http_get(port);
            let logs = text(&env.berth(&["logs", &id]).stderr);
            assert_eq!(
                body.as_deref(),
                Some(format!("hello-{tool}\n").as_str()),
                "{tool} {publish}: {logs}"
            );
            // All ports, the udp one included, with a port of its own.
            let all = text(&env.berth(&["port", &id]).stdout);
            let lines: Vec<&str> = all.lines().collect();
            assert_eq!(lines.len(), 2, "{all}");
            assert_eq!(lines[0], format!("8080/tcp -> {shown_ip}:{port}"));
            let udp = lines[1].strip_prefix("53/udp -> 127.0.0.1:").unwrap();
            assert!(udp.parse::<u16>().is_ok_and(|p| p != 0), "{all}");
            // ps: the PORTS column and {{.Ports}}.
            let ps = text(&env.berth(&["ps", "--format", "{{.Ports}}"]).stdout);
            let want = format!("{shown_ip}:{port}->8080/tcp, 127.0.0.1:{udp}->53/udp");
            assert_eq!(ps.trim(), want);
            let table = text(&env.berth(&["ps"]).stdout);
            assert!(table.lines().next().unwrap().contains(" PORTS "), "{table}");
            assert!(table.contains(&want), "{table}");
            // inspect: NetworkSettings.Ports and HostConfig.PortBindings, podman's shape.
            let out = env.berth(&["inspect", &id]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let host_ip = if shown_ip == "0.0.0.0" { "" } else { shown_ip };
            assert_eq!(
                v[0]["NetworkSettings"]["Ports"]["8080/tcp"],
                serde_json::json!([{"HostIp": host_ip, "HostPort": port.to_string()}])
            );
            // HostConfig.PortBindings names the port chosen at creation, as podman's does.
            assert_eq!(
                v[0]["HostConfig"]["PortBindings"],
                v[0]["NetworkSettings"]["Ports"]
            );
            let out = env.berth(&["port", &id, "81"]);
            assert_eq!(out.status.code(), Some(125));
            assert!(text(&out.stderr).contains("does not publish port \"81/tcp\""));
            assert!(env.berth(&["rm", "-f", &id]).status.success());
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "{tool}: port {port} still taken"
            );
        }
    }
    assert_eq!(env.containers().len(), 0);
}

/// An image's `VOLUME /data`: an anonymous volume (64-hex name) filled from the image, listed
/// by `volume ls`, removed with the container by `run --rm` and `rm -v`; a `-v` on the same
/// path replaces it.
#[test]
fn image_volume_gets_an_anonymous_volume() {
    let env = setup();
    let rootfs = env.tmp.path().join("vol-rootfs");
    wharf_testkit::busybox::make_rootfs(&rootfs).unwrap();
    std::fs::create_dir_all(rootfs.join("data")).unwrap();
    std::fs::write(rootfs.join("data/seed"), "from-image\n").unwrap();
    let tar = env.tmp.path().join("vol.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    env.user.chown(env.tmp.path());
    let out = env.berth(&[
        "import",
        "--change",
        "VOLUME /data",
        tar.to_str().unwrap(),
        "volimg",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let volumes = || -> Vec<String> {
        text(&env.berth(&["volume", "ls", "-q"]).stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };

    // run --rm: the volume exists while the container runs, holds the image's content and
    // what the container wrote, and is gone afterwards.
    let script = "cat /data/seed; echo written > /data/new; \
                  grep -c ' /data ' /proc/self/mountinfo";
    let out = env.berth(&[
        "run",
        "-d",
        "--rm",
        "volimg",
        "sh",
        "-c",
        &format!("{script}; sleep 30"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    let names = volumes();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(
        name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()),
        "{name}"
    );
    let data = env.root.join("volumes").join(name).join("_data");
    let mut written = false;
    for _ in 0..100 {
        written = data.join("new").is_file();
        if written {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(written, "the container's write is in {}", data.display());
    assert_eq!(
        std::fs::read_to_string(data.join("seed")).unwrap(),
        "from-image\n"
    );
    let out = env.berth(&["volume", "inspect", name]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["Anonymous"], true);
    let logs = text(&env.berth(&["logs", &id]).stdout);
    assert_eq!(logs, "from-image\n1\n");
    let out = env.berth(&["rm", "-f", &id]);
    assert!(out.status.success(), "rm -f: {}", text(&out.stderr));
    for _ in 0..100 {
        if volumes().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        volumes().is_empty(),
        "the --rm container's volume is removed"
    );

    // Foreground --rm: the same, once the command returns.
    let (code, out, err) = env.run(&["volimg", "sh", "-c", "cat /data/seed; touch /data/x"]);
    assert_eq!((code, out.as_str()), (0, "from-image\n"), "{err}");
    assert!(volumes().is_empty());

    // Without --rm the volume stays with the container: `rm` keeps it, `rm -v` removes it.
    for (flags, kept) in [(&["rm"][..], true), (&["rm", "-v"][..], false)] {
        let out = env.berth(&["run", "volimg", "true"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let ids = text(&env.berth(&["ps", "-aq", "--no-trunc"]).stdout);
        let id = ids.trim();
        assert_eq!(volumes().len(), 1);
        let mut args = flags.to_vec();
        args.push(id);
        assert!(env.berth(&args).status.success());
        assert_eq!(volumes().len(), usize::from(kept), "berth {flags:?}");
        for v in volumes() {
            assert!(env.berth(&["volume", "rm", &v]).status.success());
        }
    }

    // `-v /scratch` and a `--mount type=volume` without source are anonymous volumes too:
    // written through while the container runs, removed with it by --rm.
    let (code, out, err) = env.run(&[
        "-v",
        "/scratch",
        "--mount",
        "type=volume,target=/cache",
        "volimg",
        "sh",
        "-c",
        "echo hi > /scratch/f && echo c > /cache/f && grep -c -e ' /scratch ' -e ' /cache ' \
         /proc/self/mountinfo",
    ]);
    assert_eq!((code, out.as_str()), (0, "2\n"), "{err}");
    assert!(volumes().is_empty(), "{:?}", volumes());

    // A -v on the path replaces the anonymous volume.
    let (code, out, err) = env.run(&["-v", "named:/data", "volimg", "cat", "/data/seed"]);
    assert_eq!((code, out.as_str()), (0, "from-image\n"), "{err}");
    assert_eq!(volumes(), ["named"]);
    assert_eq!(env.containers().len(), 0);
}

/// The file of `controller` (v1) holding `file` for the cgroup `path`, or the v2 file.
fn cgroup_file(path: &str, v1_controller: &str, v1_file: &str, v2_file: &str) -> PathBuf {
    let root = std::path::Path::new("/sys/fs/cgroup");
    let rel = path.trim_start_matches('/');
    if root.join("cgroup.controllers").is_file() {
        root.join(rel).join(v2_file)
    } else {
        root.join(v1_controller).join(rel).join(v1_file)
    }
}

#[test]
fn cgroup_limits_as_root() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_string();
    if euid != "0" {
        eprintln!("SKIP: cgroup limits need root on this host");
        return;
    }
    let probe = std::path::Path::new("/sys/fs/cgroup/pids/wharf-e2e-probe");
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").is_file();
    if !v2 && std::fs::create_dir_all(probe).is_err() {
        eprintln!("SKIP: /sys/fs/cgroup/pids is not writable here");
        return;
    }
    let _ = std::fs::remove_dir(probe);
    let Some((_tmp, root)) = crate::busybox_store() else {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    };
    let mut runtimes = vec!["embedded"];
    if crate::have("runc") {
        runtimes.push("runc");
    }
    let fork_bomb = "for i in $(seq 20); do sleep 3 & done; wait";
    for rt in &runtimes {
        let out = crate::run(
            "berth",
            &root,
            &[
                "run",
                "--rm",
                "--runtime",
                rt,
                "--pids-limit",
                "10",
                "busybox",
                "sh",
                "-c",
                fork_bomb,
            ],
        );
        let err = text(&out.stderr);
        assert!(
            err.contains("can't fork"),
            "{rt}: 20 sleeps fit in 10 pids? {err}"
        );

        let id = crate::ok(
            "berth",
            &root,
            &[
                "run",
                "-d",
                "--runtime",
                rt,
                "--memory",
                "32m",
                "busybox",
                "sleep",
                "60",
            ],
        )
        .trim()
        .to_string();
        let path = crate::ok(
            "berth",
            &root,
            &["inspect", "--format", "{{.CgroupPath}}", &id],
        );
        assert_eq!(path.trim(), format!("/wharf/{id}"), "{rt}");
        let limit = cgroup_file(path.trim(), "memory", "memory.limit_in_bytes", "memory.max");
        // runc creates it, then writes it, once the monitor has started it.
        let mut seen = String::new();
        for _ in 0..100 {
            seen = std::fs::read_to_string(&limit).unwrap_or_default();
            if seen.trim() == "33554432" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(seen.trim(), "33554432", "{rt}: {}", limit.display());
        crate::ok("berth", &root, &["rm", "-f", &id]);
        let dir = limit.parent().unwrap().to_path_buf();
        for _ in 0..100 {
            if !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!dir.exists(), "{rt}: {} is left behind", dir.display());
    }
}

#[test]
fn cgroup_limits_rootless_fail_with_the_reason() {
    let env = setup();
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").is_file() {
        eprintln!("SKIP: cgroup v2 host: rootless limits depend on systemd delegation here");
        return;
    }
    for flags in [
        vec!["--memory", "32m"],
        vec!["--pids-limit", "5"],
        vec!["--cpus", "0.5"],
    ] {
        let mut args = flags.clone();
        args.extend(["box", "true"]);
        let (code, _, err) = env.run(&args);
        assert_eq!(code, 125, "{flags:?}: {err}");
        assert!(
            err.contains("cannot be enforced") && err.contains("cgroup v1"),
            "{err}"
        );
        assert!(
            err.contains("run berth as root") && err.contains("cgroup v2"),
            "{err}"
        );
    }
    let (code, _, err) = env.run(&["--cgroups=disabled", "--memory", "32m", "box", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("--cgroups=disabled"), "{err}");
    let (code, _, err) = env.run(&["--memory", "lots", "box", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("invalid --memory"), "{err}");
    assert_eq!(env.containers().len(), 0);
}

/// `berth port -a`: every running container's ports, each line prefixed with its short ID and
/// a tab (podman's format), an exited container left out; `-l`: the newest container, exited
/// or not; a port argument filters both.
#[test]
fn port_all_and_latest() {
    let env = setup();
    let Some(tool) = network_tools().first().copied() else {
        return;
    };
    let (p1, p2, p3, p4) = (free_port(), free_port(), free_port(), free_port());
    let mut ids = Vec::new();
    for (name, publish, cmd) in [
        ("pa", vec![format!("127.0.0.1:{p1}:80")], "sleep 60"),
        (
            "pb",
            vec![
                format!("127.0.0.1:{p2}:53/udp"),
                format!("127.0.0.1:{p3}:90"),
            ],
            "sleep 60",
        ),
        ("pc", vec![format!("127.0.0.1:{p4}:70")], "true"),
    ] {
        let mut args = vec!["run", "-d", "--network", tool, "--name", name];
        for p in &publish {
            args.extend(["-p", p.as_str()]);
        }
        args.extend(["box", "sh", "-c", cmd]);
        let out = env.berth(&args);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        ids.push(text(&out.stdout).trim()[..12].to_string());
        // Distinct creation times, so that the newest is pc.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(text(&env.berth(&["wait", "pc"]).stdout).trim(), "0");

    let out = env.berth(&["port", "--all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    lines.sort();
    let mut want = vec![
        format!("{}\t80/tcp -> 127.0.0.1:{p1}", ids[0]),
        format!("{}\t53/udp -> 127.0.0.1:{p2}", ids[1]),
        format!("{}\t90/tcp -> 127.0.0.1:{p3}", ids[1]),
    ];
    want.sort();
    assert_eq!(lines, want, "the exited pc is not listed");
    let out = env.berth(&["port", "-a", "53/udp"]);
    assert_eq!(
        text(&out.stdout),
        format!("{}\t127.0.0.1:{p2}\n", ids[1]),
        "{}",
        text(&out.stderr)
    );
    let out = env.berth(&["port", "-a", "99"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("no running container publishes port \"99/tcp\""),
        "{}",
        text(&out.stderr)
    );

    let out = env.berth(&["port", "--latest"]);
    assert_eq!(text(&out.stdout), format!("70/tcp -> 127.0.0.1:{p4}\n"));
    let out = env.berth(&["port", "-l", "70"]);
    assert_eq!(text(&out.stdout), format!("127.0.0.1:{p4}\n"));
    let out = env.berth(&["port", "-l", "80"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("container pc does not publish port \"80/tcp\""));

    // With -a or -l the one argument is the port; no container and no flag is an error.
    let out = env.berth(&["port", "-a", "pa"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("invalid port \"pa\""));
    for args in [
        &["port", "-a", "80", "90"][..],
        &["port", "-a", "-l"],
        &["port"],
    ] {
        let out = env.berth(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    for name in ["pa", "pb", "pc"] {
        assert!(env.berth(&["rm", "-f", name]).status.success());
    }
    assert_eq!(env.containers().len(), 0);
}

/// Whether `pid` is a live (not zombie) pasta/passt/slirp4netns process.
fn helper_alive(pid: i32) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next())
        == Some("Z");
    !zombie
        && ["pasta", "passt", "slirp4netns"]
            .iter()
            .any(|h| comm.starts_with(h))
}

/// A detached container's full monitor killed with SIGKILL: its network helper does not die
/// with it (pasta runs in the background, slirp4netns was `run`'s child), so `stop` and `rm`
/// stop it instead; its published port is free again.
#[test]
fn killed_monitor_leaves_no_network_helper() {
    let env = setup();
    for tool in network_tools() {
        for last in ["stop", "rm"] {
            let port = free_port();
            let publish = format!("127.0.0.1:{port}:80");
            let out = env.berth(&[
                "run",
                "-d",
                "--network",
                tool,
                "-p",
                &publish,
                "box",
                "sleep",
                "60",
            ]);
            assert!(out.status.success(), "{tool}: {}", text(&out.stderr));
            let id = text(&out.stdout).trim().to_string();
            let dir = env.root.join("containers").join(&id);
            let state: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
            let monitor = i32::try_from(state["monitor_pid"].as_i64().unwrap()).unwrap();
            let helper: i32 = std::fs::read_to_string(dir.join("network.pid"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert!(helper_alive(helper), "{tool}: helper {helper} runs");
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(monitor),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
            let out = if last == "stop" {
                env.berth(&["stop", "-t", "1", &id])
            } else {
                env.berth(&["rm", "-f", &id])
            };
            assert!(out.status.success(), "{tool} {last}: {}", text(&out.stderr));
            // `stop` waits for the helper; give a process that was not ours a moment anyway.
            for _ in 0..100 {
                if !helper_alive(helper) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            assert!(
                !helper_alive(helper),
                "{tool} {last}: {helper} lingers after the monitor was killed"
            );
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "{tool} {last}: port {port} still taken"
            );
            let _ = env.berth(&["rm", "-f", &id]);
        }
    }
    assert_eq!(env.containers().len(), 0);
}
