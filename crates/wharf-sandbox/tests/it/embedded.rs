//! The embedded runtime runs the same bundle as runc and the container sees the same things;
//! a seccomp profile's EPERM reaches the process; missing and non-executable commands give
//! 127 and 126; a bind volume writes through.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::{Duration, Instant};
use wharf_sandbox::SandboxError;
use wharf_sandbox::bundle::write_bundle;
use wharf_sandbox::maybe_reexec_in_userns;

use wharf_sandbox::runtime::{run, run_bundle, start};
use wharf_sandbox::spec::{SeccompMode, SpecOptions, generate};
use wharf_testkit::user::{assert_inner_ok, is_inner, test_user};

use crate::rootfs::busybox_rootfs;
use crate::runc::{PROBE, check_probe, image_config};

const DENY_MKDIR: &str = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#;

#[allow(clippy::unwrap_used, clippy::print_stdout)] // test code, called from the #[test] below
fn inner(work: &Path) {
    let rootfs = work.join("rootfs");
    busybox_rootfs(&rootfs).unwrap();
    std::fs::create_dir_all(rootfs.join("srv")).unwrap();
    let mut image = image_config();
    image.cmd = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("echo ===BEGIN; {PROBE}"),
    ]);
    let bundle = write_bundle(
        &work.join("bundle"),
        Some(&image),
        SpecOptions::new(&rootfs, "wharf-box"),
    )
    .unwrap();
    // The container's stdout is this process's: the outer test reads it.
    assert_eq!(run_bundle(&bundle.dir).unwrap(), 3);

    // A profile that denies mkdir: EPERM inside, everything else allowed; a bind volume.
    let vol = work.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    let mut o = SpecOptions::new(&rootfs, "wharf-box");
    o.seccomp = SeccompMode::Profile {
        text: DENY_MKDIR.into(),
        origin: "test".into(),
    };
    o.command = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        "mkdir /tmp/x 2>/vol/mkdir.err; echo written > /vol/out; exit 0".into(),
    ]);
    o.extra_mounts = vec![
        oci_spec::runtime::MountBuilder::default()
            .destination("/vol")
            .typ("bind")
            .source(vol.clone())
            .options(vec!["rbind".to_string(), "rw".to_string()])
            .build()
            .unwrap(),
    ];
    let spec = generate(Some(&image), &o).unwrap();
    assert_eq!(run(&spec, work).unwrap(), 0);
    let err = std::fs::read_to_string(vol.join("mkdir.err")).unwrap();
    assert!(err.contains("Operation not permitted"), "{err}");
    assert_eq!(
        std::fs::read_to_string(vol.join("out")).unwrap(),
        "written\n"
    );

    // SIGTERM sent to the container handle reaches PID 1 (which has a handler).
    o.command = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        "trap 'exit 42' TERM; touch /vol/ready; while :; do sleep 0.1; done".into(),
    ]);
    let container = start(&generate(Some(&image), &o).unwrap(), work).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !vol.join("ready").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    container.signal(libc::SIGTERM).unwrap();
    assert_eq!(container.wait().unwrap(), 42, "the trap's exit code");

    // 127 / 126 as podman.
    o.seccomp = SeccompMode::Default;
    o.command = Some(vec!["/no/such/program".into()]);
    let e = run(&generate(None, &o).unwrap(), work).unwrap_err();
    assert!(matches!(e, SandboxError::ContainerExec { .. }), "{e}");
    assert_eq!(e.exit_code(), 127, "{e}");
    o.command = Some(vec!["/etc/passwd".into()]);
    let e = run(&generate(None, &o).unwrap(), work).unwrap_err();
    assert_eq!(e.exit_code(), 126, "{e}");
    println!("EMBEDDED-OK");
}

#[test]
fn embedded_runtime_matches_runc_observations() {
    if is_inner() {
        if let Some(code) = maybe_reexec_in_userns().unwrap() {
            assert_eq!(code, ExitCode::SUCCESS);
            return;
        }
        inner(&PathBuf::from(std::env::var("WORK").unwrap()));
        return;
    }
    let Some(user) = test_user() else { return };
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    user.chown(dir.path());
    let out = user.run_self(
        "embedded::embedded_runtime_matches_runc_observations",
        &[("WORK", dir.path().to_str().unwrap())],
    );
    assert_inner_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (_, container) = stdout.split_once("===BEGIN\n").expect("container output");
    check_probe(container);
    assert!(stdout.contains("EMBEDDED-OK"));
}
