//! User namespace entry, observed from inside: the ID maps, root inside, a private mount
//! namespace, the exit code coming back out.

use std::process::{Command, ExitCode};

use wharf_sandbox::{maybe_reexec_in_userns, run_in_userns};
use wharf_testkit::user::{assert_inner_ok, is_inner, test_user};

/// The first subordinate range of `name` in `file`, as "start count".
fn first_range(file: &str, name: &str) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? != name {
            return None;
        }
        Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
    })
}

fn map_lines(path: &str) -> Vec<Vec<u32>> {
    std::fs::read_to_string(path)
        .expect("readable map")
        .lines()
        .map(|l| {
            l.split_whitespace()
                .map(|n| n.parse().expect("number"))
                .collect()
        })
        .collect()
}

#[test]
fn reexec_enters_userns_with_subordinate_maps() {
    if is_inner() {
        if let Some(code) = maybe_reexec_in_userns().unwrap() {
            // The original process: the re-executed test below has run and passed.
            assert_eq!(code, ExitCode::SUCCESS);
            return;
        }
        let uid: u32 = std::env::var("EXPECT_UID").unwrap().parse().unwrap();
        let gid: u32 = std::env::var("EXPECT_GID").unwrap().parse().unwrap();
        let start: u32 = std::env::var("EXPECT_SUBUID").unwrap().parse().unwrap();
        let gstart: u32 = std::env::var("EXPECT_SUBGID").unwrap().parse().unwrap();
        assert_eq!(std::env::var("_WHARF_USERNS").unwrap(), "subid");
        assert_eq!(
            map_lines("/proc/self/uid_map"),
            vec![vec![0, uid, 1], vec![1, start, 65536]]
        );
        assert_eq!(
            map_lines("/proc/self/gid_map"),
            vec![vec![0, gid, 1], vec![1, gstart, 65536]]
        );
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert_eq!(uid_line.split_whitespace().nth(1), Some("0"), "{uid_line}");
        // A different mount namespace than the one the outer test runs in.
        let ours = std::fs::read_link("/proc/self/ns/mnt").unwrap();
        assert_ne!(
            ours.to_str().unwrap(),
            std::env::var("OUTER_MNT_NS").unwrap()
        );
        // Root inside can chown to a subordinate ID: the range really is mapped.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        std::os::unix::fs::chown(&f, Some(1000), Some(1000)).unwrap();
        println!("INSIDE-USERNS-OK");
        return;
    }
    let Some(user) = test_user() else { return };
    let (Some((start, _)), Some((gstart, _))) = (
        first_range("/etc/subuid", &user.name),
        first_range("/etc/subgid", &user.name),
    ) else {
        eprintln!(
            "SKIP: user {} has no /etc/subuid and /etc/subgid range",
            user.name
        );
        return;
    };
    if !std::path::Path::new("/usr/bin/newuidmap").exists() {
        eprintln!("SKIP: newuidmap missing (Debian package uidmap)");
        return;
    }
    let outer_ns = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let out = user.run_self(
        "userns::reexec_enters_userns_with_subordinate_maps",
        &[
            ("OUTER_MNT_NS", outer_ns.to_str().unwrap()),
            ("EXPECT_UID", &user.uid.to_string()),
            ("EXPECT_GID", &user.gid.to_string()),
            ("EXPECT_SUBUID", &start.to_string()),
            ("EXPECT_SUBGID", &gstart.to_string()),
        ],
    );
    assert_inner_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("INSIDE-USERNS-OK"));
}

#[test]
fn run_in_userns_returns_the_command_exit_code() {
    if is_inner() {
        let dir = std::env::var("OUT_DIR_T").unwrap();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("cat /proc/self/uid_map > \"$D/map\"; id -u > \"$D/id\"; exit 7")
            .env("D", &dir);
        assert_eq!(run_in_userns(&cmd).unwrap(), 7);
        let id = std::fs::read_to_string(format!("{dir}/id")).unwrap();
        assert_eq!(id.trim(), "0");
        let map = std::fs::read_to_string(format!("{dir}/map")).unwrap();
        assert_eq!(map.lines().count(), 2, "{map}");
        // A signal death comes back as 128+N.
        let mut kill = Command::new("sh");
        kill.arg("-c").arg("kill -9 $$");
        assert_eq!(run_in_userns(&kill).unwrap(), 137);
        let err = run_in_userns(&Command::new("no-such-program-wharf")).unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
        return;
    }
    let Some(user) = test_user() else { return };
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    user.chown(dir.path());
    let out = user.run_self(
        "userns::run_in_userns_returns_the_command_exit_code",
        &[("OUT_DIR_T", dir.path().to_str().unwrap())],
    );
    assert_inner_ok(&out);
}

/// A user without subordinate ranges, created for this test (root only).
const NO_RANGE_USER: &str = "wharf-test-noid";

#[test]
fn single_id_map_without_subordinate_ranges() {
    if is_inner() {
        if let Some(code) = maybe_reexec_in_userns().unwrap() {
            assert_eq!(code, ExitCode::SUCCESS);
            return;
        }
        let uid: u32 = std::env::var("EXPECT_UID").unwrap().parse().unwrap();
        assert_eq!(std::env::var("_WHARF_USERNS").unwrap(), "single");
        assert_eq!(map_lines("/proc/self/uid_map"), vec![vec![0, uid, 1]]);
        assert_eq!(
            std::fs::read_to_string("/proc/self/setgroups")
                .unwrap()
                .trim(),
            "deny"
        );
        let plan = wharf_sandbox::userns::plan_id_maps().unwrap();
        assert!(plan.warning.unwrap().contains("no subordinate ID range"));
        println!("SINGLE-ID-OK");
        return;
    }
    if !nix_is_root() {
        eprintln!("SKIP: creating a user without subordinate ranges needs root");
        return;
    }
    let exists = Command::new("id")
        .arg(NO_RANGE_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let _ = Command::new("useradd")
            .args([
                "-K",
                "SUB_UID_COUNT=0",
                "-K",
                "SUB_GID_COUNT=0",
                NO_RANGE_USER,
            ])
            .output();
    }
    let id = |flag: &str| -> Option<u32> {
        let o = Command::new("id")
            .arg(flag)
            .arg(NO_RANGE_USER)
            .output()
            .ok()?;
        String::from_utf8_lossy(&o.stdout).trim().parse().ok()
    };
    let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
        eprintln!("SKIP: cannot create user {NO_RANGE_USER} (useradd)");
        return;
    };
    if first_range("/etc/subuid", NO_RANGE_USER).is_some() {
        eprintln!("SKIP: {NO_RANGE_USER} unexpectedly has a subordinate range");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--init-groups")
        .arg("--")
        .arg(exe)
        .args([
            "userns::single_id_map_without_subordinate_ranges",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("WHARF_TEST_INNER", "1")
        .env("EXPECT_UID", uid.to_string())
        .current_dir("/")
        .output()
        .unwrap();
    assert_inner_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("SINGLE-ID-OK"));
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
