//! `kiln build --platform`: a list builds each platform into a manifest list (read back from a
//! registry with skopeo, and used as a base for one platform from the store and from the
//! registry); RUN for a foreign architecture fails clearly without qemu-user binfmt emulation
//! and works with it (Debian's arm64 busybox-static prints `aarch64`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::build::text;
use crate::{have, run};

fn kiln(root: &Path, args: &[&str]) -> Output {
    run("kiln", root, args)
}

fn kiln_ok(root: &Path, args: &[&str]) -> Output {
    let out = kiln(root, args);
    assert!(out.status.success(), "kiln {args:?}: {}", text(&out.stderr));
    out
}

fn context(dir: &Path, name: &str, dockerfile: &str) -> PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    ctx
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `architecture` of the config of `image` in the store.
fn arch_of(root: &Path, image: &str) -> String {
    let v = json(&kiln_ok(root, &["inspect", image]));
    let config = if v["OCIv1"].is_object() {
        &v["OCIv1"]
    } else {
        &v["Config"]
    };
    config["architecture"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Whether the kernel runs arm64 binaries through qemu-user with the `F` flag.
fn arm64_emulation() -> bool {
    std::fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").is_ok_and(|t| {
        t.starts_with("enabled")
            && t.lines()
                .any(|l| l.starts_with("flags:") && l.contains('F'))
    })
}

#[test]
fn platform_list_builds_a_manifest_list() {
    if !have("skopeo") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let ctx = context(
        tmp.path(),
        "ctx",
        "FROM scratch\nARG TARGETARCH\nCOPY hello.txt /hello-${TARGETARCH}.txt\n",
    );
    std::fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    let iid = tmp.path().join("iid");
    let out = kiln_ok(
        &root,
        &[
            "build",
            "--platform",
            "linux/amd64,linux/arm64",
            "-t",
            "multi",
            "--iidfile",
            iid.to_str().unwrap(),
            ctx.to_str().unwrap(),
        ],
    );
    let digest = text(&out.stdout).trim().to_owned();
    assert_eq!(
        std::fs::read_to_string(&iid).unwrap(),
        format!("sha256:{digest}")
    );
    let index = json(&kiln_ok(&root, &["manifest", "inspect", "multi"]));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert_eq!(entries[0]["platform"]["architecture"], "amd64");
    assert_eq!(entries[1]["platform"]["architecture"], "arm64");
    // containerd's normalisation, as BuildKit writes it: arm64 without its default v8.
    assert!(entries[1]["platform"]["variant"].is_null(), "{index}");
    assert_eq!(entries[1]["platform"]["os"], "linux");

    // Pushed and read back with skopeo: each image's config names its architecture, and
    // TARGETARCH was set per platform.
    let dest = format!("docker://{}/e2e/multi:v1", reg.addr());
    kiln_ok(
        &root,
        &["manifest", "push", "--tls-verify=false", "multi", &dest],
    );
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &dest])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    let raw = json(&out);
    assert_eq!(raw["manifests"], index["manifests"], "{raw}");
    for (arch, variant) in [("amd64", None::<&str>), ("arm64", None)] {
        let mut args = vec!["inspect", "--config", "--tls-verify=false"];
        args.extend(["--override-arch", arch]);
        if let Some(v) = variant {
            args.extend(["--override-variant", v]);
        }
        args.push(&dest);
        let out = Command::new("skopeo").args(&args).output().unwrap();
        assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
        let config = json(&out);
        assert_eq!(config["architecture"], arch, "{config}");
        assert_eq!(config["os"], "linux");
        // The layer holds the file named for its platform.
        let dir = tmp.path().join(format!("copied-{arch}"));
        let mut args = vec!["copy", "--src-tls-verify=false", "--override-arch", arch];
        if let Some(v) = variant {
            args.extend(["--override-variant", v]);
        }
        let to = format!("dir:{}", dir.display());
        args.extend([dest.as_str(), to.as_str()]);
        let out = Command::new("skopeo").args(&args).output().unwrap();
        assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let layer = manifest["layers"][0]["digest"].as_str().unwrap();
        let out = Command::new("tar")
            .arg("-tzf")
            .arg(dir.join(layer.trim_start_matches("sha256:")))
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), format!("hello-{arch}.txt"));
    }

    // FROM picks the platform's image: from the list in the store, and from the registry
    // into an empty store.
    let base = context(tmp.path(), "from-store", "FROM multi\nCOPY x /x\n");
    std::fs::write(base.join("x"), "x\n").unwrap();
    let b = base.to_str().unwrap();
    kiln_ok(
        &root,
        &["build", "--platform", "linux/arm64", "-t", "on-arm", b],
    );
    assert_eq!(arch_of(&root, "on-arm"), "arm64");
    kiln_ok(
        &root,
        &["build", "--platform", "linux/amd64", "-t", "on-amd", b],
    );
    assert_eq!(arch_of(&root, "on-amd"), "amd64");
    let remote = format!("{}/e2e/multi:v1", reg.addr());
    let pulled = context(
        tmp.path(),
        "from-registry",
        &format!("FROM {remote}\nCOPY x /x\n"),
    );
    std::fs::write(pulled.join("x"), "x\n").unwrap();
    let fresh = tmp.path().join("fresh");
    let p = pulled.to_str().unwrap();
    let args = ["build", "--tls-verify=false", "--platform", "linux/arm64"];
    kiln_ok(&fresh, &[&args[..], &["-t", "pulled-arm", p]].concat());
    assert_eq!(arch_of(&fresh, "pulled-arm"), "arm64");
    // The arm64 base under that name is not taken for amd64: the amd64 one is pulled.
    let args = ["build", "--tls-verify=false", "--platform", "linux/amd64"];
    kiln_ok(&fresh, &[&args[..], &["-t", "pulled-amd", p]].concat());
    assert_eq!(arch_of(&fresh, "pulled-amd"), "amd64");

    // `manifest add` of a registry reference, into a store that lacks it: with --all every
    // entry of the pushed list (same manifests), without it the host's image alone; the new
    // list pushes and reads back as the original's entries.
    let other = tmp.path().join("other");
    kiln_ok(&other, &["manifest", "create", "copy"]);
    let nt = "--tls-verify=false";
    kiln_ok(&other, &["manifest", "add", nt, "--all", "copy", &dest]);
    let copied = json(&kiln_ok(&other, &["manifest", "inspect", "copy"]));
    assert_eq!(copied["manifests"], index["manifests"], "{copied}");
    let dest2 = format!("docker://{}/e2e/copy:v1", reg.addr());
    kiln_ok(&other, &["manifest", "push", nt, "copy", &dest2]);
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", nt, &dest2])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    assert_eq!(json(&out)["manifests"], index["manifests"]);
    kiln_ok(&other, &["manifest", "create", "one"]);
    kiln_ok(&other, &["manifest", "add", nt, "one", &dest]);
    let one = json(&kiln_ok(&other, &["manifest", "inspect", "one"]));
    assert_eq!(one["manifests"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["manifests"][0], index["manifests"][0], "{one}");
    // Platform overrides do not apply to a whole index.
    let out = kiln(
        &other,
        &[
            "manifest", "add", nt, "--all", "--arch", "s390x", "one", &dest,
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--arch"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn foreign_run_without_emulation_names_the_line_and_what_to_install() {
    if arm64_emulation() {
        eprintln!("SKIP: arm64 emulation is registered in binfmt_misc");
        return;
    }
    if std::env::consts::ARCH == "aarch64" {
        eprintln!("SKIP: arm64 is this machine's own architecture");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let ctx = context(tmp.path(), "ctx", "FROM scratch\nCOPY f /f\nRUN [\"/f\"]\n");
    std::fs::write(ctx.join("f"), "not run\n").unwrap();
    let c = ctx.to_str().unwrap();
    for platforms in ["linux/arm64", "linux/arm64,linux/amd64"] {
        let out = kiln(
            &root,
            &["build", "--platform", platforms, "-t", "foreign", c],
        );
        assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("Dockerfile:3: RUN [\"/f\"]"), "{err}");
        assert!(
            err.contains("linux/arm64/v8 needs qemu-user emulation"),
            "{err}"
        );
        assert!(
            err.contains("qemu-user-static") && err.contains("binfmt-support"),
            "{err}"
        );
        assert!(!kiln(&root, &["inspect", "foreign"]).status.success());
    }
}

/// Debian's arm64 busybox-static: `WHARF_TEST_ARM64_DEB`, or the package in apt's cache.
fn arm64_busybox_deb() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WHARF_TEST_ARM64_DEB") {
        return Some(PathBuf::from(p));
    }
    let mut debs: Vec<PathBuf> = std::fs::read_dir("/var/cache/apt/archives")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("busybox-static_") && n.ends_with("_arm64.deb"))
        })
        .collect();
    debs.sort();
    debs.pop()
}

#[test]
fn foreign_run_under_qemu_emulation() {
    if !arm64_emulation() {
        eprintln!("SKIP: no arm64 qemu-user emulation with the F flag in binfmt_misc");
        return;
    }
    let Some(deb) = arm64_busybox_deb() else {
        eprintln!(
            "SKIP: no arm64 busybox-static deb (set WHARF_TEST_ARM64_DEB, or apt-get download \
             busybox-static:arm64 into /var/cache/apt/archives)"
        );
        return;
    };
    // Under /tmp, to be handed to the unprivileged user: the F flag is what makes the
    // emulator usable in a rootless build's user namespace.
    let tmp = tempfile::Builder::new()
        .prefix("kiln-qemu")
        .tempdir_in("/tmp")
        .unwrap();
    let unpacked = tmp.path().join("deb");
    let st = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(st.success(), "dpkg-deb -x {}", deb.display());
    let root = tmp.path().join("store");
    let ctx = context(
        tmp.path(),
        "ctx",
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"uname\", \"-m\"]\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox uname -m > /arch\"]\n",
    );
    std::fs::copy(unpacked.join("bin/busybox"), ctx.join("busybox")).unwrap();
    let args = [
        "build",
        "--platform",
        "linux/arm64",
        "-t",
        "arm",
        ctx.to_str().unwrap(),
    ];
    let out = if let Some(user) = wharf_testkit::user::test_user() {
        user.chown(tmp.path());
        let out = user
            .command(crate::bin("kiln"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        out
    } else {
        eprintln!("no unprivileged test user: building as root");
        kiln_ok(&root, &args)
    };
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("aarch64").count(), 1, "{stdout}");
    assert_eq!(arch_of(&root, "arm"), "arm64");
}

/// `FROM --platform=$BUILDPLATFORM`: a cross-compiling stage takes the build machine's base
/// and runs natively (no emulation), while the image built carries the target platform.
#[test]
fn stage_platform_runs_natively_for_a_foreign_target() {
    if std::env::consts::ARCH != "x86_64" {
        eprintln!("SKIP: the test builds for arm64 from an x86_64 host");
        return;
    }
    let Some((tmp, root)) = crate::busybox_store() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "ctx",
        "FROM --platform=$BUILDPLATFORM busybox AS build\nARG TARGETARCH\n\
         RUN echo \"$(uname -m) for $TARGETARCH\" > /out.txt\n\
         FROM scratch\nCOPY --from=build /out.txt /\n",
    );
    let out_dir = tmp.path().join("out");
    let ctx = ctx.to_str().unwrap();
    kiln_ok(
        &root,
        &["build", "--platform", "linux/arm64", "-t", "cross", ctx],
    );
    assert_eq!(arch_of(&root, "cross"), "arm64");
    let out = format!("type=local,dest={}", out_dir.display());
    kiln_ok(
        &root,
        &["build", "--platform", "linux/arm64", "-o", &out, ctx],
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("out.txt")).unwrap(),
        "x86_64 for arm64\n"
    );
    // A stage platform that is not OS/ARCH is refused on its line.
    let bad = context(
        tmp.path(),
        "bad",
        "FROM --platform=linux/ busybox\nRUN true\n",
    );
    let out = kiln(&root, &["build", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("Dockerfile:1") && err.contains("invalid platform \"linux/\""),
        "{err}"
    );
}

/// `--format docker` with a list writes a Docker manifest list of Docker manifests, as buildah
/// does, and a registry serves it as one.
#[test]
fn docker_format_list_is_a_docker_manifest_list() {
    if !have("skopeo") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let ctx = context(tmp.path(), "ctx", "FROM scratch\nCOPY hello.txt /\n");
    std::fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    let platforms = "linux/amd64,linux/arm64";
    let ctx = ctx.to_str().unwrap();
    let args = ["build", "--format", "docker", "--platform", platforms];
    kiln_ok(&root, &[&args[..], &["-t", "dl", ctx]].concat());
    let list = json(&kiln_ok(&root, &["manifest", "inspect", "dl"]));
    let docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
    assert_eq!(list["mediaType"], docker_list, "{list}");
    let entries = list["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for e in entries {
        assert_eq!(
            e["mediaType"], "application/vnd.docker.distribution.manifest.v2+json",
            "{list}"
        );
    }
    let dest = format!("docker://{}/e2e/dl:v1", reg.addr());
    kiln_ok(
        &root,
        &["manifest", "push", "--tls-verify=false", "dl", &dest],
    );
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &dest])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    let raw = json(&out);
    assert_eq!(raw["mediaType"], docker_list, "{raw}");
    assert_eq!(raw["manifests"], list["manifests"]);
}

/// `kiln build --manifest LIST`: the built image joins the list, created on first use; a
/// second build for another platform adds its entry (buildah's multi-arch CI flow).
#[test]
fn manifest_flag_builds_into_a_list() {
    let Some((tmp, root)) = crate::busybox_store() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "ctx",
        "FROM scratch\nARG TARGETARCH\nCOPY hello.txt /hello-${TARGETARCH}.txt\n",
    );
    std::fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    for platform in ["linux/amd64", "linux/arm64"] {
        kiln_ok(
            &root,
            &[
                "build",
                "-q",
                "--platform",
                platform,
                "--manifest",
                "ci-list",
                ctx.to_str().unwrap(),
            ],
        );
    }
    let index = json(&kiln_ok(&root, &["manifest", "inspect", "ci-list"]));
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert_eq!(entries[0]["platform"]["architecture"], "amd64");
    assert_eq!(entries[1]["platform"]["architecture"], "arm64");
}
