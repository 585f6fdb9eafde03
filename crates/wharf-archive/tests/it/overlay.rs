//! Rootless overlay round trip: as an unprivileged user, inside a user and mount namespace,
//! mount kernel overlay with `userxattr`, change the merged view (deletions, replacements, an
//! opaque directory), write a layer from the upper directory and apply it onto a fresh copy of
//! the lower directory: the result must equal the merged view.

use std::fs::File;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use wharf_archive::{
    ApplyOptions, LayerCompression, LayerReader, LayerSource, Whiteouts, WriteOptions, apply_layer,
    write_layer,
};
use wharf_testkit::user;

use crate::tree::{assert_same, snapshot};

const TEST: &str = "overlay::overlay_upper_round_trips_rootless";
const DIR_ENV: &str = "WHARF_OVL_DIR";
const NS_ENV: &str = "WHARF_OVL_NS";

#[test]
fn overlay_upper_round_trips_rootless() {
    if std::env::var_os(NS_ENV).is_some() {
        in_namespace(&PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
        return;
    }
    if user::is_inner() {
        as_user(&PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
        return;
    }
    let Some(u) = user::test_user() else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("wharf-ovl")
        .tempdir_in("/tmp")
        .unwrap();
    u.chown(tmp.path());
    let out = u.run_self(TEST, &[(DIR_ENV, tmp.path().to_str().unwrap())]);
    print!("{}", String::from_utf8_lossy(&out.stdout));
    user::assert_inner_ok(&out);
}

/// The unprivileged half: enter a user and mount namespace and run the test body there.
fn as_user(dir: &Path) {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("SKIP: unprivileged user namespaces are not available (unshare --user failed)");
        return;
    }
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(NS_ENV, "1")
        .env(DIR_ENV, dir)
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    user::assert_inner_ok(&out);
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_lower(l: &Path) {
    for d in ["rm_dir/sub", "opq/old", "dir_to_file/x", "keep/deep", "ro"] {
        std::fs::create_dir_all(l.join(d)).unwrap();
    }
    for f in [
        "rm_me",
        "rm_dir/a",
        "rm_dir/sub/b",
        "opq/one",
        "opq/old/two",
        "dir_to_file/x/y",
        "file_to_dir",
        "modify",
        "chmod_me",
        "xattr_me",
        "rename_src",
        "keep/deep/one",
        "keep/deep/stays",
        "ro/file",
    ] {
        std::fs::write(l.join(f), format!("lower {f}")).unwrap();
    }
    std::fs::hard_link(l.join("keep/deep/stays"), l.join("keep/stays-link")).unwrap();
    symlink("keep/deep", l.join("deep-link")).unwrap();
    std::fs::set_permissions(l.join("ro"), PermissionsExt::from_mode(0o555)).unwrap();
    // Some real files too.
    for (src, name) in [
        ("/usr/share/zoneinfo/Europe", "zoneinfo"),
        ("/usr/lib/x86_64-linux-gnu/perl-base", "perl-base"),
    ] {
        if Path::new(src).is_dir() {
            run(Command::new("cp")
                .args(["-r", "--preserve=mode,timestamps,links"])
                .arg(src)
                .arg(l.join(name)));
        }
    }
}

fn change_merged(m: &Path) {
    std::fs::remove_file(m.join("rm_me")).unwrap();
    std::fs::remove_dir_all(m.join("rm_dir")).unwrap();
    // rm -rf then recreate: overlay marks the new directory opaque.
    std::fs::remove_dir_all(m.join("opq")).unwrap();
    std::fs::create_dir(m.join("opq")).unwrap();
    std::fs::write(m.join("opq/new"), b"upper").unwrap();
    std::fs::remove_file(m.join("file_to_dir")).unwrap();
    std::fs::create_dir(m.join("file_to_dir")).unwrap();
    std::fs::write(m.join("file_to_dir/inside"), b"upper").unwrap();
    std::fs::remove_dir_all(m.join("dir_to_file")).unwrap();
    std::fs::write(m.join("dir_to_file"), b"now a file").unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(m.join("modify"))
        .unwrap();
    std::io::Write::write_all(&mut f, b" and more").unwrap();
    drop(f);
    std::fs::set_permissions(m.join("chmod_me"), PermissionsExt::from_mode(0o4700)).unwrap();
    xattr::set(m.join("xattr_me"), "user.added", b"in upper").unwrap();
    std::fs::write(m.join("new_a"), b"new").unwrap();
    std::fs::hard_link(m.join("new_a"), m.join("new_b")).unwrap();
    run(Command::new("mkfifo").arg(m.join("new_fifo")));
    symlink("/usr/lib64", m.join("new_link")).unwrap();
    std::fs::rename(m.join("rename_src"), m.join("rename_dst")).unwrap();
    std::fs::remove_file(m.join("keep/deep/one")).unwrap();
    std::fs::write(m.join("keep/deep/two"), b"upper").unwrap();
    if m.join("zoneinfo").is_dir() {
        std::fs::remove_file(m.join("zoneinfo/Berlin")).unwrap();
        std::fs::write(m.join("zoneinfo/Paris"), b"replaced").unwrap();
    }
}

fn in_namespace(dir: &Path) {
    let [lower, upper, work, merged, fresh] =
        ["lower", "upper", "work", "merged", "fresh"].map(|n| dir.join(n));
    for d in [&lower, &upper, &work, &merged, &fresh] {
        std::fs::create_dir(d).unwrap();
    }
    make_lower(&lower);
    let opts = format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        lower.display(),
        upper.display(),
        work.display()
    );
    let mount = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts])
        .arg(&merged)
        .output()
        .unwrap();
    if !mount.status.success() {
        println!(
            "SKIP: kernel overlay with userxattr cannot be mounted in a user namespace: {}",
            String::from_utf8_lossy(&mount.stderr)
        );
        return;
    }
    change_merged(&merged);
    let expected = snapshot(&merged);

    let blob = dir.join("layer.tar.zst");
    let wopts = WriteOptions {
        source: LayerSource::OverlayUpper,
        compression: LayerCompression::Zstd,
        ..WriteOptions::default()
    };
    let info = write_layer(&upper, File::create(&blob).unwrap(), &wopts).unwrap();
    run(Command::new("umount").arg(&merged));

    // The layer carries OCI whiteouts, not overlay's devices or attributes.
    let mut names = Vec::new();
    let dec =
        wharf_archive::decompress(File::open(&blob).unwrap(), LayerCompression::Zstd).unwrap();
    for e in tar::Archive::new(dec).entries().unwrap() {
        let e = e.unwrap();
        assert!(
            !e.header().entry_type().is_character_special(),
            "a whiteout device leaked into the layer"
        );
        names.push(String::from_utf8_lossy(&e.path_bytes()).into_owned());
    }
    for want in [
        ".wh.rm_me",
        ".wh.rm_dir",
        "opq/.wh..wh..opq",
        ".wh.rename_src",
        "keep/deep/.wh.one",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.starts_with("opq/old")));

    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", lower.display()))
        .arg(&fresh));
    let mut reader = LayerReader::new(File::open(&blob).unwrap(), LayerCompression::Zstd).unwrap();
    apply_layer(&mut reader, &fresh, &ApplyOptions::default()).unwrap();
    assert_eq!(reader.finish().unwrap(), info);
    assert_same(&expected, &snapshot(&fresh));

    // The same layer applied in overlay-output mode is a lower directory: stacked on the
    // lower tree it mounts to the same view.
    let (diff, stacked) = (dir.join("diff"), dir.join("stacked"));
    std::fs::create_dir(&diff).unwrap();
    std::fs::create_dir(&stacked).unwrap();
    let mut reader = LayerReader::new(File::open(&blob).unwrap(), LayerCompression::Zstd).unwrap();
    let overlay_out = ApplyOptions {
        whiteouts: Whiteouts::Overlay {
            xattr_fallback: true,
        },
        ..ApplyOptions::default()
    };
    apply_layer(&mut reader, &diff, &overlay_out).unwrap();
    assert_eq!(reader.finish().unwrap(), info);
    let opts = format!("lowerdir={}:{},userxattr", diff.display(), lower.display());
    run(Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &opts])
        .arg(&stacked));
    let got = snapshot(&stacked);
    run(Command::new("umount").arg(&stacked));
    assert_same(&expected, &got);
    println!(
        "overlay round trip: {} entries compared",
        expected.nodes.len()
    );
}
