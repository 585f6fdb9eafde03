//! One integration-test binary for the whole toolchain (faster to build than one per file).
// Test helpers outside #[test] functions may unwrap and report skips on stderr.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod attestations;
mod berth;
mod berth_monitor;
mod berth_pull;
mod berth_res;
mod berth_tty;
mod build;
mod build_copy;
mod build_equiv;
mod build_flags;
mod build_git;
mod build_instr;
mod build_mounts;
mod build_out;
mod build_platform;
mod ci_containers;
mod cli;
mod ferry;
mod images;
mod kiln_ctr;
mod pull_unpack;
mod referrers;
mod registry_conf;
mod security;
mod signatures;
mod snapshots;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Command output as text (lossy), for assertions and messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The path of a workspace binary built for these tests.
pub fn bin(name: &str) -> PathBuf {
    // Cargo builds the binaries of (dev-)dependencies into the same target directory as this
    // test executable: target/<profile>/deps/e2e-* -> target/<profile>/<name>.
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built: run the tests with `cargo nextest run` (its setup script builds the \
         binaries) or `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// Compiles the C program `source` statically into `dir/name` (an attacker's tool a test puts
/// into a container or a build context; gcc and libc6-dev).
pub fn compile_static(dir: &Path, name: &str, source: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let cc = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .expect("cc (gcc and libc6-dev, for static test programs)");
    assert!(
        cc.status.success(),
        "compiling {name}: {}",
        text(&cc.stderr)
    );
    std::fs::remove_file(&src).unwrap();
    out
}

/// Runs a wharf binary against the store at `root`.
pub fn run(name: &str, root: &Path, args: &[&str]) -> Output {
    Command::new(bin(name))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("WHARF_ROOT")
        .output()
        .expect("spawn")
}

/// Like [`run`], asserting success, returning stdout.
pub fn ok(name: &str, root: &Path, args: &[&str]) -> String {
    let out = run(name, root, args);
    assert!(
        out.status.success(),
        "{name} {args:?} failed with {}:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A store with a busybox image imported as `localhost/busybox:latest`, or `None` (skipped).
pub fn busybox_store() -> Option<(tempfile::TempDir, PathBuf)> {
    if !wharf_testkit::busybox::available() {
        return None;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).expect("busybox rootfs");
    let root = tmp.path().join("store");
    ok(
        "berth",
        &root,
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().expect("utf-8"),
            "busybox",
        ],
    );
    Some((tmp, root))
}

/// Whether a tool is on PATH (prints a `SKIP:` line when not).
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIP: {tool} is not installed");
    }
    found
}
