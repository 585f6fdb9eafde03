//! `kiln build`'s sandbox flags for RUN, with buildah's semantics: `-v`, `--dns*`,
//! `--security-opt`, `--ulimit`, `--memory`/`--cpus`/`--pids-limit`, `--memory-swap`,
//! `--cpu-shares`, `--cpu-period`/`--cpu-quota`, `--cpuset-cpus`/`--cpuset-mems`, `--device`
//! (host nodes and CDI devices, `--cdi-spec-dir`), and the cache
//! and label flags `--cache-ttl`, `--identity-label`. Each runs a real build and reads what
//! RUN saw from the image it made.

use std::path::Path;

use crate::build::{inspect, text, unpack};
use crate::build_instr::{context, kiln_env, kiln_ok};
use crate::{busybox_store, have};

/// Builds `dockerfile` with `flags` as `name` and returns the unpacked root filesystem.
fn build_and_unpack(
    root: &Path,
    tmp: &Path,
    name: &str,
    dockerfile: &str,
    flags: &[&str],
) -> std::path::PathBuf {
    let ctx = context(tmp, &format!("ctx-{name}"), dockerfile);
    // Sandbox flags are no part of the cache key (as buildah's): each build runs its steps.
    let mut args = vec!["build", "-q", "--no-cache", "-t", name];
    args.extend_from_slice(flags);
    args.push(ctx.to_str().unwrap());
    kiln_ok(root, &args, &[]);
    unpack(root, &format!("localhost/{name}:latest"), tmp)
}

fn refused(root: &Path, tmp: &Path, flags: &[&str], needle: &str) {
    let ctx = context(tmp, "refused", "FROM busybox\nRUN true\n");
    let mut args = vec!["build", "-q"];
    args.extend_from_slice(flags);
    args.push(ctx.to_str().unwrap());
    let out = kiln_env(root, &args, &[]);
    assert!(!out.status.success(), "{flags:?} was accepted");
    let err = text(&out.stderr);
    assert!(err.contains(needle), "{flags:?}: {err}");
}

/// `-v HOST:CTR[:ro]`: RUN reads and (rw) writes the host directory; the mount point is no
/// part of the layer; `ro` refuses writes; `U` gives the source to RUN's user; `O` and
/// relative paths are refused with the reason.
#[test]
fn volume_binds_a_host_directory_into_run() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let host = tmp.path().join("shared");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    let v = format!("{}:/mnt/shared", host.display());
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "vol",
        "FROM busybox\nRUN cp /mnt/shared/in.txt /seen.txt && echo out > /mnt/shared/out.txt\n",
        &["-v", &v],
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("seen.txt")).unwrap(),
        "from the host\n"
    );
    assert_eq!(
        std::fs::read_to_string(host.join("out.txt")).unwrap(),
        "out\n"
    );
    assert!(
        !rootfs.join("mnt").exists(),
        "the mount point went into the layer"
    );

    let ro = format!("{}:/ro:ro", host.display());
    let ctx = context(
        tmp.path(),
        "ro",
        "FROM busybox\nRUN touch /ro/nope 2>/dev/null && exit 1; echo refused > /ro.txt\n",
    );
    kiln_ok(
        &root,
        &["build", "-q", "-t", "ro", "-v", &ro, ctx.to_str().unwrap()],
        &[],
    );
    assert!(!host.join("nope").exists());

    // U: the source belongs to the RUN's user (1234 here) before the command runs.
    let owned = tmp.path().join("owned");
    std::fs::create_dir(&owned).unwrap();
    std::fs::write(owned.join("f"), "x").unwrap();
    let u = format!("{}:/data:U", owned.display());
    build_and_unpack(
        &root,
        tmp.path(),
        "volu",
        "FROM busybox\nUSER 1234:1234\nRUN stat -c %u:%g /data/f > /data/owner.txt\n",
        &["-v", &u],
    );
    assert_eq!(
        std::fs::read_to_string(owned.join("owner.txt")).unwrap(),
        "1234:1234\n"
    );

    refused(&root, tmp.path(), &["-v", "rel:/x"], "must be absolute");
    let overlay = format!("{}:/x:O", host.display());
    refused(&root, tmp.path(), &["-v", &overlay], "overlay");
    refused(
        &root,
        tmp.path(),
        &["-v", "/nonexistent-dir:/x"],
        "/nonexistent-dir",
    );
}

/// `--dns`, `--dns-search`, `--dns-option` write RUN's resolv.conf; `--dns none` generates
/// none (the image's own, here none at all).
#[test]
fn dns_flags_shape_run_resolv_conf() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let df = "FROM busybox\nRUN (cat /etc/resolv.conf 2>/dev/null || echo none) > /resolv.txt\n";
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "dns",
        df,
        &[
            "--dns",
            "192.0.2.53",
            "--dns",
            "192.0.2.54",
            "--dns-search",
            "corp.test",
            "--dns-option",
            "ndots:3",
            "--network",
            "none",
        ],
    );
    let resolv = std::fs::read_to_string(rootfs.join("resolv.txt")).unwrap();
    let lines: Vec<&str> = resolv.lines().collect();
    assert_eq!(
        lines,
        [
            "nameserver 192.0.2.53",
            "nameserver 192.0.2.54",
            "search corp.test",
            "options ndots:3"
        ],
        "{resolv}"
    );
    let rootfs = build_and_unpack(&root, tmp.path(), "dnsnone", df, &["--dns", "none"]);
    assert_eq!(
        std::fs::read_to_string(rootfs.join("resolv.txt")).unwrap(),
        "none\n"
    );
    refused(&root, tmp.path(), &["--dns", "not-an-ip"], "--dns");
}

/// `--security-opt seccomp=PROFILE` applies the profile to RUN (a profile refusing `mkdir`
/// makes `mkdir` fail), `seccomp=unconfined` lifts the default one; unsupported label and
/// AppArmor settings are refused with the reason.
#[test]
fn security_opt_applies_seccomp_to_run() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let profile = tmp.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let df = "FROM busybox\nRUN (mkdir /made && echo made || echo refused) > /mkdir.txt\n";
    let opt = format!("seccomp={}", profile.display());
    let rootfs = build_and_unpack(&root, tmp.path(), "sec", df, &["--security-opt", &opt]);
    assert_eq!(
        std::fs::read_to_string(rootfs.join("mkdir.txt")).unwrap(),
        "refused\n"
    );
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "secoff",
        df,
        &[
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "label=disable",
            "--security-opt",
            "no-new-privileges",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("mkdir.txt")).unwrap(),
        "made\n"
    );
    refused(
        &root,
        tmp.path(),
        &["--security-opt", "apparmor=docker-default"],
        "AppArmor",
    );
    refused(
        &root,
        tmp.path(),
        &["--security-opt", "label=type:spc_t"],
        "SELinux",
    );
    refused(
        &root,
        tmp.path(),
        &["--security-opt", "seccomp=/nonexistent.json"],
        "/nonexistent.json",
    );
}

/// `--ulimit` sets RUN's rlimits; one above kiln's own hard limit is refused with the reason.
#[test]
fn ulimit_sets_run_rlimits() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "ulim",
        "FROM busybox\nRUN (ulimit -n; ulimit -Hn; ulimit -c) > /limits.txt\n",
        &["--ulimit", "nofile=123:456", "--ulimit", "core=0"],
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("limits.txt")).unwrap(),
        "123\n456\n0\n"
    );
    refused(
        &root,
        tmp.path(),
        &["--ulimit", "nofile=-1"],
        "CAP_SYS_RESOURCE",
    );
    refused(&root, tmp.path(), &["--ulimit", "colour=1"], "unknown type");
}

/// `--device HOST:CTR` gives RUN the node (bound: no mknod in a user namespace), and leaves
/// nothing in the layer; not a device, or read-only access (no devices cgroup to enforce it):
/// refused with the reason.
#[test]
fn device_gives_run_a_host_node() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "dev",
        "FROM busybox\nRUN head -c 4 /dev/mydev | wc -c > /read.txt\n",
        &["--device", "/dev/zero:/dev/mydev"],
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("read.txt"))
            .unwrap()
            .trim(),
        "4"
    );
    assert!(!rootfs.join("dev/mydev").exists());
    refused(
        &root,
        tmp.path(),
        &["--device", "/etc/passwd"],
        "not a device",
    );
    refused(
        &root,
        tmp.path(),
        &["--device", "/dev/zero:/dev/z:r"],
        "devices cgroup",
    );
}

/// `--memory` as root: RUN gets a cgroup with the limit, so a 100 MB buffer is killed under
/// 32m (and not without it). Rootless on this cgroup v1 host the limit cannot be enforced: the
/// build is refused with the reason before anything runs, never run unlimited.
#[test]
fn memory_limit_is_enforced_or_refused() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let df = "FROM busybox\nRUN dd if=/dev/zero of=/dev/null bs=100M count=1\n";
    let ctx = context(tmp.path(), "mem", df);
    let ctx_s = ctx.to_str().unwrap();
    kiln_ok(&root, &["build", "-q", "--no-cache", ctx_s], &[]);
    let is_v1 = !Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let out = kiln_env(
        &root,
        &["build", "-q", "--no-cache", "--memory", "32m", ctx_s],
        &[],
    );
    assert!(
        !out.status.success(),
        "a 100 MB buffer ran under --memory 32m: {}",
        text(&out.stderr)
    );
    // Root on this host: the OOM killer ends the RUN (137), as buildah's runc does.
    assert_eq!(out.status.code(), Some(137), "{}", text(&out.stderr));
    let ok = kiln_env(
        &root,
        &[
            "build",
            "-q",
            "--no-cache",
            "--memory",
            "256m",
            "--cpus",
            "1",
            ctx_s,
        ],
        &[],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    if !is_v1 {
        return;
    }
    let utmp = tempfile::Builder::new()
        .prefix("kiln-mem")
        .tempdir_in("/tmp")
        .unwrap();
    let uctx = context(utmp.path(), "mem", df);
    user.chown(utmp.path());
    let out = user
        .command(crate::bin("kiln"))
        .arg("--root")
        .arg(utmp.path().join("store"))
        .args(["build", "--memory", "32m"])
        .arg(&uctx)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("--memory") && err.contains("cgroup v1"),
        "{err}"
    );
}

/// `--memory-swap`, `--cpu-shares`, `--cpu-period`/`--cpu-quota`, `--cpuset-cpus`/`--cpuset-mems`
/// as root: the RUN waits (on a file of a `-v` bind) while the test finds its cgroup on the host
/// and reads what was written there; inside, the RUN sees only the CPUs of its cpuset. Rootless
/// on this cgroup v1 host they are refused with the reason; inconsistent values are refused as
/// podman refuses them.
#[test]
fn cpu_and_swap_limits_are_written_to_run_cgroups_or_refused() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let sync = tmp.path().join("sync");
    std::fs::create_dir(&sync).unwrap();
    let df = "FROM busybox
RUN touch /sync/started && while [ ! -e /sync/go ]; do sleep 0.1; done \
              && grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status > /allowed.txt\n";
    let ctx = context(tmp.path(), "cg", df);
    let volume = format!("{}:/sync", sync.display());
    let mut child = std::process::Command::new(crate::bin("kiln"))
        .arg("--root")
        .arg(&root)
        .args([
            "build",
            "-q",
            "--no-cache",
            "-t",
            "cg",
            "-v",
            &volume,
            "--memory",
            "64m",
            "--memory-swap",
            "96m",
            "--cpu-shares",
            "512",
            "--cpu-period",
            "50000",
            "--cpu-quota",
            "20000",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
        ])
        .arg(&ctx)
        .env("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The RUN's cgroup: the one under wharf/ with our shares and period (other tests' RUNs
    // may have cgroups of their own at the same time).
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    while !sync.join("started").exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The cgroup exists before the RUN's first process: one look, once it has started.
    let found = std::fs::read_dir("/sys/fs/cgroup/cpu/wharf")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|d| {
            read(&d.join("cpu.shares")) == "512" && read(&d.join("cpu.cfs_period_us")) == "50000"
        })
        .map(|d| {
            let name = d.file_name().unwrap().to_owned();
            let cg = |ctl: &str, file: &str| {
                read(
                    &Path::new("/sys/fs/cgroup")
                        .join(ctl)
                        .join("wharf")
                        .join(&name)
                        .join(file),
                )
            };
            (
                cg("cpu", "cpu.cfs_quota_us"),
                cg("memory", "memory.limit_in_bytes"),
                cg("memory", "memory.memsw.limit_in_bytes"),
                cg("cpuset", "cpuset.cpus"),
                cg("cpuset", "cpuset.mems"),
            )
        });
    std::fs::write(sync.join("go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found = found.expect("the RUN's cgroup with --cpu-shares 512 --cpu-period 50000");
    assert_eq!(
        found,
        (
            "20000".to_owned(),
            (64u64 << 20).to_string(),
            (96u64 << 20).to_string(),
            "0".to_owned(),
            "0".to_owned()
        )
    );
    let rootfs = unpack(&root, "localhost/cg:latest", tmp.path());
    let allowed = std::fs::read_to_string(rootfs.join("allowed.txt")).unwrap();
    assert!(allowed.contains("Cpus_allowed_list:\t0\n"), "{allowed}");
    assert!(!rootfs.join("sync/go").exists());

    for (flags, needle) in [
        (&["--memory-swap", "64m"][..], "needs --memory"),
        (
            &["--memory", "64m", "--memory-swap", "32m"][..],
            "at least --memory",
        ),
        (&["--cpu-shares", "1"][..], "--cpu-shares"),
        (&["--cpu-period", "10"][..], "--cpu-period"),
        (
            &["--cpus", "1", "--cpu-quota", "20000"][..],
            "cannot be used with",
        ),
        (
            &["--cpuset-cpus", "0-99999"][..],
            "CPU this machine does not have",
        ),
    ] {
        refused(&root, tmp.path(), flags, needle);
    }

    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return;
    }
    let utmp = tempfile::Builder::new()
        .prefix("kiln-cg")
        .tempdir_in("/tmp")
        .unwrap();
    let uctx = context(utmp.path(), "cg", "FROM busybox\nRUN true\n");
    user.chown(utmp.path());
    for flag in ["--cpu-shares", "--cpuset-cpus"] {
        let out = user
            .command(crate::bin("kiln"))
            .arg("--root")
            .arg(utmp.path().join("store"))
            .args([
                "build",
                flag,
                if flag == "--cpu-shares" { "512" } else { "0" },
            ])
            .arg(&uctx)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains(flag) && err.contains("cgroup v1"), "{err}");
    }
}

/// `--cache-ttl`: a cached step younger than the TTL is used, an older one runs again; `0`
/// is `--no-cache`. `--identity-label` labels the image with kiln's version.
#[test]
fn cache_ttl_and_identity_label() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(tmp.path(), "ttl", "FROM busybox\nRUN date +%s%N > /t\n");
    let ctx_s = ctx.to_str().unwrap();
    kiln_ok(&root, &["build", "-t", "ttl", ctx_s], &[]);
    let hits = |flags: &[&str]| {
        let mut args = vec!["build", "-t", "ttl"];
        args.extend_from_slice(flags);
        args.push(ctx_s);
        let out = kiln_ok(&root, &args, &[]);
        text(&out.stderr).matches("--> Using cache").count()
    };
    assert_eq!(hits(&["--cache-ttl", "1h"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(hits(&["--cache-ttl", "1s"]), 0, "a stale step was used");
    assert_eq!(hits(&["--cache-ttl", "0"]), 0);
    assert_eq!(hits(&[]), 1);

    kiln_ok(
        &root,
        &["build", "-q", "-t", "ident", "--identity-label", ctx_s],
        &[],
    );
    let labels = &inspect(&root, "ident")["Config"]["config"]["Labels"];
    assert_eq!(
        labels["io.wharf.version"],
        env!("CARGO_PKG_VERSION"),
        "{labels}"
    );
    kiln_ok(&root, &["build", "-q", "-t", "noident", ctx_s], &[]);
    assert!(inspect(&root, "noident")["Config"]["config"]["Labels"]["io.wharf.version"].is_null());
}

/// `--all-platforms` builds for the platforms every base offers: the intersection of the
/// bases' manifest lists (a stage and scratch offer any), tagged as a manifest list; bases
/// that share none, or no base naming one, are refused with the reason.
#[test]
fn all_platforms_builds_what_the_bases_offer() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let base = context(
        tmp.path(),
        "base",
        "FROM scratch\nARG TARGETARCH\nCOPY x /base-${TARGETARCH}\n",
    );
    std::fs::write(base.join("x"), "x\n").unwrap();
    let b = base.to_str().unwrap();
    kiln_ok(
        &root,
        &[
            "build",
            "-q",
            "--platform",
            "linux/amd64,linux/arm64,linux/s390x",
            "-t",
            "three",
            b,
        ],
        &[],
    );
    kiln_ok(
        &root,
        &[
            "build",
            "-q",
            "--platform",
            "linux/arm64,linux/amd64",
            "-t",
            "two",
            b,
        ],
        &[],
    );
    // No RUN: foreign platforms would need emulation; the platforms chosen are what counts.
    let app = context(
        tmp.path(),
        "app",
        "FROM two AS tools\nFROM three\nCOPY --from=tools /base-* /tools/\n",
    );
    kiln_ok(
        &root,
        &[
            "build",
            "-q",
            "--all-platforms",
            "-t",
            "app",
            app.to_str().unwrap(),
        ],
        &[],
    );
    let out = kiln_ok(&root, &["manifest", "inspect", "app"], &[]);
    let index: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let archs: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    // In the first base's order: `two` lists arm64 first.
    assert_eq!(archs, ["arm64", "amd64"], "{index}");

    refused_all(
        &root,
        tmp.path(),
        "FROM scratch\nCOPY Dockerfile /\n",
        "scratch",
    );
    kiln_ok(
        &root,
        &["build", "-q", "--platform", "linux/s390x", "-t", "s390", b],
        &[],
    );
    refused_all(
        &root,
        tmp.path(),
        "FROM s390 AS a\nFROM two\nCOPY --from=a / /a/\n",
        "share no platform",
    );
}

fn refused_all(root: &Path, tmp: &Path, dockerfile: &str, needle: &str) {
    let ctx = context(tmp, "refused-all", dockerfile);
    let out = kiln_env(
        root,
        &["build", "-q", "--all-platforms", ctx.to_str().unwrap()],
        &[],
    );
    assert!(!out.status.success(), "{dockerfile}");
    let err = text(&out.stderr);
    assert!(err.contains(needle), "{err}");
}

/// CDI devices (`RUN --device=VENDOR/CLASS=NAME`, Dockerfile labs, and `kiln build --device
/// VENDOR/CLASS=NAME`) from specs in `--cdi-spec-dir`: a JSON spec (version 0.6.0) exposing
/// `/dev/null` as `/dev/wharf-cdi-null` with an env var, and a YAML one (0.8.0) with a bind
/// mount; the expectation is the CDI spec's own (containerEdits: env, deviceNodes with
/// hostPath, mounts), nothing of it left in the layer. (Debian's podman 4.3 gives the same
/// for the JSON spec put in /var/run/cdi — a char node 1,3 at the new path, "yes 1" — and
/// refuses an unknown name; it has no --cdi-spec-dir, so the test does not write the
/// machine's spec directories to run it.) An unknown optional device is skipped
/// with a warning, a required one fails naming the directories read; a device with a hook is
/// refused naming the hook; a malformed `RUN --device` is a parse error.
#[test]
fn cdi_devices_apply_their_spec_edits() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let specs = tmp.path().join("cdi");
    std::fs::create_dir(&specs).unwrap();
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("hello.txt"), "from the host\n").unwrap();
    std::fs::write(
        specs.join("null.json"),
        r#"{"cdiVersion":"0.6.0","kind":"wharf.test/null",
            "containerEdits":{"env":["WHARF_CDI_SPEC=1"]},
            "devices":[{"name":"one","containerEdits":{"env":["WHARF_CDI=yes"],
              "deviceNodes":[{"path":"/dev/wharf-cdi-null","hostPath":"/dev/null","type":"c",
                              "permissions":"rw"}]}},
              {"name":"hooked","containerEdits":{"hooks":[{"hookName":"createContainer",
                "path":"/usr/bin/true"}]}}]}"#,
    )
    .unwrap();
    std::fs::write(
        specs.join("dir.yaml"),
        format!(
            "cdiVersion: 0.8.0\nkind: wharf.test/dir\ndevices:\n- name: data\n  containerEdits:\n    \
             env: [WHARF_DIR=mounted]\n    mounts:\n    - hostPath: {}\n      containerPath: /cdi-data\n      \
             options: [ro]\n",
            shared.display()
        ),
    )
    .unwrap();
    let dir_flag = format!("--cdi-spec-dir={}", specs.display());
    let rootfs = build_and_unpack(
        &root,
        tmp.path(),
        "cdi",
        "FROM busybox\n\
         RUN --device=wharf.test/null=one test -c /dev/wharf-cdi-null \
             && echo x > /dev/wharf-cdi-null && echo \"$WHARF_CDI $WHARF_CDI_SPEC\" > /run.txt\n\
         RUN cat /cdi-data/hello.txt > /flag.txt && echo $WHARF_DIR >> /flag.txt \
             && ! test -e /dev/wharf-cdi-null\n\
         RUN --device=wharf.test/null=missing echo ran > /optional.txt\n",
        &[&dir_flag, "--device", "wharf.test/dir=data"],
    );
    let read = |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap();
    assert_eq!(read("run.txt"), "yes 1\n");
    assert_eq!(read("flag.txt"), "from the host\nmounted\n");
    assert_eq!(read("optional.txt"), "ran\n");
    assert!(!rootfs.join("dev/wharf-cdi-null").exists());
    assert!(!rootfs.join("cdi-data").exists());

    let specs_s = specs.display().to_string();
    for (df, flags, needles) in [
        (
            "FROM busybox\nRUN --device=wharf.test/null=missing,required true\n",
            vec![dir_flag.as_str()],
            vec![
                "unknown CDI device wharf.test/null=missing",
                specs_s.as_str(),
            ],
        ),
        (
            "FROM busybox\nRUN --device=wharf.test/null=hooked true\n",
            vec![dir_flag.as_str()],
            vec!["createContainer hook /usr/bin/true"],
        ),
        (
            "FROM busybox\nRUN true\n",
            vec![dir_flag.as_str(), "--device", "wharf.test/gpu=0"],
            vec!["unknown CDI device wharf.test/gpu=0", specs_s.as_str()],
        ),
        (
            "FROM busybox\nRUN true\n",
            vec!["--device", "wharf.test/gpu=0"],
            vec!["/etc/cdi, /var/run/cdi"],
        ),
        (
            "FROM busybox\nRUN --device=x,colour=red true\n",
            vec![],
            vec!["NAME[,required]"],
        ),
    ] {
        let ctx = context(tmp.path(), "cdi-refused", df);
        let mut args = vec!["build", "-q"];
        args.extend(flags.iter().copied());
        args.push(ctx.to_str().unwrap());
        let out = kiln_env(&root, &args, &[]);
        assert!(!out.status.success(), "{df} {flags:?}");
        let err = text(&out.stderr);
        for n in needles {
            assert!(err.contains(n), "{df} {flags:?}: {err}");
        }
    }
}
