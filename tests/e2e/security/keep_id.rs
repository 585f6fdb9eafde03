//! A hostile image against `berth run --userns=keep-id`, which adds the user to the image's
//! `/etc/passwd` and `/etc/group`: when `/etc` is a symlink to a host path, berth used to
//! follow it on the host (it only checked that the last component was not a link) and appended
//! to, or created, `passwd` and `group` in whatever directory the link named. Found while
//! reviewing finding 3 of issue 11; the directory now resolves inside the image's root.

use std::process::Command;

use crate::text;
use wharf_testkit::user::test_user;

#[test]
fn keep_id_never_writes_through_an_image_symlink_to_the_host() {
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is installed on CI"
    );
    let user = test_user().expect("the unprivileged test user wharf-test");
    let tmp = tempfile::tempdir().unwrap();
    user.chown(tmp.path());
    // The user's own directory on the host that the image aims at.
    let host = tmp.path().join("host-etc");
    std::fs::create_dir(&host).unwrap();
    user.chown(&host);

    let rootfs = tmp.path().join("rootfs");
    wharf_testkit::busybox::make_rootfs(&rootfs).unwrap();
    std::fs::remove_dir_all(rootfs.join("etc")).unwrap();
    std::os::unix::fs::symlink(&host, rootfs.join("etc")).unwrap();
    let tar = tmp.path().join("hostile.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    user.chown(&tar);

    let store = tmp.path().join("store");
    let berth = |args: &[&str]| {
        user.command(crate::bin("berth"))
            .arg("--root")
            .arg(&store)
            .args(args)
            .current_dir("/tmp")
            .env_remove("WHARF_ROOT")
            .output()
            .unwrap()
    };
    let out = berth(&["import", tar.to_str().unwrap(), "hostile"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = berth(&["run", "--rm", "--userns=keep-id", "hostile", "true"]);
    let listing: Vec<_> = std::fs::read_dir(&host)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        listing.is_empty(),
        "keep-id wrote {listing:?} on the host through the image's /etc link ({})",
        text(&out.stderr)
    );
}
