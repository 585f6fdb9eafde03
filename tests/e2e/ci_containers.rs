//! kiln inside real unprivileged job containers (issue 12): podman with runc, `--network
//! host`, no `--privileged`, default capabilities, masked `/proc`, no `/dev/fuse`; with
//! podman's default seccomp profile, Docker's default profile (`data/docker-default-seccomp.json`,
//! written from moby's `profiles/seccomp/default.json`, the one containerd's `RuntimeDefault`
//! matches), `--cap-add SYS_ADMIN` with the store on a volume, and `--user 1000:1000`. Each
//! builds the same multi-stage Dockerfile (RUN, COPY, ADD, ENV, USER, a cache mount) FROM a
//! base in a registry the test started, pushes it there, and the pushed digest must equal the
//! host's build of the same Dockerfile (`--timestamp 0`). Runs as root.

use std::path::Path;
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::{bin, busybox_store, ok};

const DOCKERFILE: &str = "\
ARG BASE
FROM $BASE AS build
ENV GREETING=hello
COPY app.txt /src/app.txt
RUN --mount=type=cache,target=/cache echo \"$GREETING\" > /cache/g && cp /cache/g /src/g \\
    && mkdir -p /out && cat /src/app.txt /src/g > /out/result
FROM $BASE
COPY --from=build /out /out
ADD extra.tar /opt/
RUN rm /bin/vi && rm -rf /root && mkdir /root && echo done > /out/done
USER 1000
";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn context(dir: &Path) {
    std::fs::create_dir_all(dir.join("x")).unwrap();
    std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(dir.join("app.txt"), "app\n").unwrap();
    std::fs::write(dir.join("x/extra.txt"), "extra\n").unwrap();
    let st = Command::new("tar")
        .args([
            "--numeric-owner",
            "--owner=0",
            "--group=0",
            "--mtime=@0",
            "-C",
        ])
        .arg(dir)
        .args(["-cf"])
        .arg(dir.join("extra.tar"))
        .arg("x")
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_dir_all(dir.join("x")).unwrap();
}

/// The build and push kiln runs, on the host and in the containers.
fn script(reg: &str, tag: &str, store: &str, ctx: &str) -> String {
    format!(
        "set -e; kiln --root {store} build --tls-verify=false --timestamp 0 \
         --build-arg BASE={reg}/busybox -t {reg}/{tag} {ctx}; \
         kiln --root {store} push --tls-verify=false --digestfile {store}.digest {reg}/{tag}; \
         cat {store}.digest"
    )
}

/// Runs `script` in a job container made from `rootfs`, as root with a pod's settings plus
/// `flags`.
pub(crate) fn podman(conf: &Path, rootfs: &Path, flags: &[&str], script: &str) -> Output {
    podman_as(Command::new("podman"), conf, rootfs, flags, script)
}

/// `cmd` is podman, run as root or as the unprivileged test user (rootless podman).
fn podman_as(mut cmd: Command, conf: &Path, rootfs: &Path, flags: &[&str], script: &str) -> Output {
    cmd.env("CONTAINERS_CONF", conf)
        .args(["run", "--rm", "--runtime", "runc", "--network", "host"])
        .args(flags)
        .arg("--rootfs")
        .arg(rootfs)
        .args(["sh", "-c", script])
        .output()
        .unwrap()
}

/// What the job-container tests start from: busybox pushed to a registry the test started
/// (returned to keep it running, with its address) and a build context.
fn seeded() -> Option<(tempfile::TempDir, Registry, String, std::path::PathBuf)> {
    if !wharf_testkit::ci::available() {
        return None;
    }
    let (tmp, seed) = busybox_store()?;
    let reg = Registry::start_plain()?;
    let a = reg.addr().to_owned();
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &format!("docker://{a}/busybox:latest"),
        ],
    );
    let ctx = tmp.path().join("ctx");
    context(&ctx);
    Some((tmp, reg, a, ctx))
}

/// Runs `script` on the host (kernel overlay, oci isolation) with this build's kiln first on
/// PATH: the reference the job containers' digests must equal.
fn on_host(script: &str) -> Output {
    Command::new("sh")
        .args(["-c", script])
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin("kiln").parent().unwrap().display()),
        )
        .output()
        .unwrap()
}

#[test]
fn kiln_builds_and_pushes_in_unprivileged_job_containers_with_the_hosts_digest() {
    let Some((tmp, _reg, a, ctx)) = seeded() else {
        return;
    };

    // The host's build: kernel overlay, oci isolation.
    let host_store = tmp.path().join("host");
    let out = on_host(&script(
        &a,
        "app-host",
        host_store.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ));
    assert!(out.status.success(), "host build: {}", text(&out.stderr));
    let host_digest = text(&out.stdout).trim().lines().last().unwrap().to_owned();
    assert!(host_digest.starts_with("sha256:"), "{host_digest}");

    let rootfs = tmp.path().join("rootfs");
    wharf_testkit::ci::job_rootfs(&rootfs, &bin("kiln")).unwrap();
    let work = rootfs.join("work/ctx");
    context(&work);
    let conf = wharf_testkit::ci::podman_conf(tmp.path()).unwrap();
    let volume = tmp.path().join("volume");
    std::fs::create_dir_all(&volume).unwrap();
    let docker_profile =
        wharf_testkit::repo_root().join("tests/e2e/data/docker-default-seccomp.json");
    let docker_seccomp = format!("seccomp={}", docker_profile.display());
    let vol = format!("{}:/vol", volume.display());
    // (row, podman flags, the isolation kiln must pick by itself)
    let rows: [(&str, Vec<&str>, &str); 5] = [
        ("default", vec![], "chroot"),
        (
            "seccomp-unconfined",
            vec!["--security-opt", "seccomp=unconfined"],
            "chroot",
        ),
        (
            "sys-admin-volume",
            vec!["--cap-add", "SYS_ADMIN", "-v", &vol],
            "chroot",
        ),
        ("user-1000", vec!["--user", "1000:1000"], "chroot"),
        (
            "docker-seccomp",
            vec!["--security-opt", &docker_seccomp],
            "rootfs",
        ),
    ];
    let mut failures = Vec::new();
    for (row, flags, isolation) in rows {
        let store = if row == "sys-admin-volume" {
            "/vol/store"
        } else {
            &format!("/store/{row}")
        };
        let out = podman(
            &conf,
            &rootfs,
            &flags,
            &script(&a, &format!("app-{row}"), store, "/work/ctx"),
        );
        let stderr = text(&out.stderr);
        let digest = text(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        if !out.status.success() {
            failures.push(format!("{row}: failed:\n{stderr}"));
        } else if digest != host_digest {
            failures.push(format!(
                "{row}: digest {digest}, host {host_digest}:\n{stderr}"
            ));
        } else if !stderr.contains(&format!("RUN uses {isolation} isolation")) {
            failures.push(format!(
                "{row}: no notice of {isolation} isolation:\n{stderr}"
            ));
        }
    }

    // Rootless podman: the container's root is the unprivileged test user; kiln nests its
    // namespaces in the container's and keeps its store in /tmp (the rootfs is root's).
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    for dir in [tmp.path(), &rootfs] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = podman_as(
        user.command("podman"),
        &conf,
        &rootfs,
        &[],
        &script(&a, "app-rootless", "/tmp/store", "/work/ctx"),
    );
    let digest = text(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    if !out.status.success() || digest != host_digest {
        failures.push(format!(
            "rootless podman: digest {digest:?}, host {host_digest}:\n{}",
            text(&out.stderr)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Asking for oci where it cannot work names the cause and the mode that would.
    let out = podman(
        &conf,
        &rootfs,
        &[
            "--security-opt",
            &docker_seccomp,
            "-e",
            "KILN_ISOLATION=oci",
        ],
        &script(&a, "app-oci", "/store/oci", "/work/ctx"),
    );
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("refused by this container's seccomp filter"),
        "{err}"
    );
    assert!(!err.contains("disabled by the sysctl"), "{err}");
    assert!(err.contains("--isolation rootfs"), "{err}");
}

/// The working-container session both sides run: a file created, one deleted and a directory
/// made again (overlay marks it opaque) by `kiln run`,
/// `kiln copy`, `kiln config --env`, `kiln commit --timestamp 0`, `kiln push`; then `kiln mount`
/// (the root's directory, printed as `mount: DIR`, where the run's file is), `umount`, `rm`.
fn working_script(reg: &str, tag: &str, store: &str, ctx: &str) -> String {
    format!(
        "set -e; K='kiln --root {store}'; \
         c=$($K from -q --tls-verify=false {reg}/busybox); \
         $K run $c -- sh -c 'echo made > /made && rm /bin/vi && rm -rf /root \
           && mkdir /root && echo new > /root/new'; \
         $K copy $c {ctx}/app.txt /srv/app.txt; \
         $K config --env GREETING=hello $c; \
         $K commit -q --timestamp 0 $c {reg}/{tag} >/dev/null; \
         $K push --tls-verify=false --digestfile {store}.digest {reg}/{tag}; \
         $K inspect $c | grep -o '\"Driver\": *\"[a-z-]*\"'; \
         m=$($K mount $c); echo \"mount: $m $(cat $m/made)\"; \
         $K umount $c >/dev/null; $K rm $c >/dev/null; \
         test ! -e $m; cat {store}.digest"
    )
}

/// Issue 12: buildah-style working containers in job containers where no overlay can be
/// mounted (default, Docker's seccomp profile, rootless podman): the root is a plain directory
/// (the copy driver) and `commit` diffs it against the snapshot `kiln from` kept. The pushed
/// image must be the host's (overlay) to the digest, and `kiln mount` prints the plain
/// directory without mounting anything.
#[test]
fn working_containers_without_overlay_commit_the_hosts_digest() {
    let Some((tmp, _reg, a, ctx)) = seeded() else {
        return;
    };
    let host_store = tmp.path().join("host");
    let out = on_host(&working_script(
        &a,
        "wc-host",
        host_store.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "host session: {stdout}{}",
        text(&out.stderr)
    );
    let host_digest = stdout.trim().lines().last().unwrap().to_owned();
    assert!(host_digest.starts_with("sha256:"), "{stdout}");
    assert!(stdout.contains("\"Driver\": \"overlay\""), "{stdout}");

    let rootfs = tmp.path().join("rootfs");
    wharf_testkit::ci::job_rootfs(&rootfs, &bin("kiln")).unwrap();
    context(&rootfs.join("work/ctx"));
    let conf = wharf_testkit::ci::podman_conf(tmp.path()).unwrap();
    let out = podman(
        &conf,
        &rootfs,
        &[],
        &working_script(&a, "wc-job", "/store/wc", "/work/ctx"),
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "job container: {stdout}{stderr}");
    assert!(
        stdout.contains("\"Driver\": \"copy\""),
        "no overlay in a default job container: {stdout}"
    );
    let mount = stdout
        .lines()
        .find_map(|l| l.strip_prefix("mount: "))
        .unwrap_or_else(|| panic!("no mount line: {stdout}{stderr}"));
    assert!(
        mount.starts_with("/store/wc/containers/") && mount.ends_with("/merged made"),
        "kiln mount: {mount}"
    );
    let digest = stdout
        .lines()
        .find(|l| l.starts_with("sha256:"))
        .unwrap_or_default();
    assert_eq!(digest, host_digest, "{stdout}{stderr}");
    assert!(
        stderr.contains("chroot isolation"),
        "kiln run says which isolation it picked: {stderr}"
    );

    // Docker's default seccomp profile: no namespace at all, `kiln run` uses rootfs isolation.
    let profile = wharf_testkit::repo_root().join("tests/e2e/data/docker-default-seccomp.json");
    let seccomp = format!("seccomp={}", profile.display());
    let out = podman(
        &conf,
        &rootfs,
        &["--security-opt", &seccomp],
        &working_script(&a, "wc-rootfs", "/store/wc-rootfs", "/work/ctx"),
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    let digest = stdout
        .lines()
        .find(|l| l.starts_with("sha256:"))
        .unwrap_or_default();
    assert_eq!(digest, host_digest, "docker seccomp: {stdout}{stderr}");
    assert!(stderr.contains("rootfs isolation"), "{stderr}");

    // Rootless podman: kiln nests its namespaces in the container's, store in /tmp.
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    for dir in [tmp.path(), &rootfs] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = podman_as(
        user.command("podman"),
        &conf,
        &rootfs,
        &[],
        &working_script(&a, "wc-rootless", "/tmp/store", "/work/ctx"),
    );
    let stdout = text(&out.stdout);
    let digest = stdout
        .lines()
        .find(|l| l.starts_with("sha256:"))
        .unwrap_or_default();
    assert_eq!(
        digest,
        host_digest,
        "rootless podman: {stdout}{}",
        text(&out.stderr)
    );
}
