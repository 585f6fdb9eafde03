//! Storage drivers on real layers inside the rootless user namespace: 210 lower layers through
//! kernel overlay (beyond mount(2)'s one-page option string), whiteouts and opaque directories,
//! and the same tree through fuse-overlayfs and the copy driver.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_sandbox::maybe_reexec_in_userns;
use wharf_sandbox::overlay::{Driver, DriverKind, MountRequest};
use wharf_testkit::user::{assert_inner_ok, is_inner, test_user};

const LAYERS: usize = 210;

/// Layer i holds `only-i`, `common` = i; layer 1 adds `gone` and `dir/old`; the top layer
/// deletes `gone` (whiteout) and makes `dir` opaque with `dir/new`.
fn make_layers(root: &Path) -> Vec<PathBuf> {
    let mut layers = Vec::new();
    for i in 0..LAYERS {
        let l = root.join(format!("layers/{i:04}"));
        fs::create_dir_all(&l).expect("layer dir");
        fs::write(l.join(format!("only-{i}")), i.to_string()).expect("file");
        fs::write(l.join("common"), i.to_string()).expect("file");
        layers.push(l);
    }
    fs::write(layers[1].join("gone"), "x").expect("file");
    fs::create_dir(layers[1].join("dir")).expect("dir");
    fs::write(layers[1].join("dir/old"), "x").expect("file");
    let top = layers.last().expect("layers").clone();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        top.join("gone"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0),
        0,
    )
    .expect("whiteout (mknod 0/0 works in a user namespace since Linux 5.8)");
    fs::create_dir(top.join("dir")).expect("dir");
    rustix::fs::setxattr(
        top.join("dir"),
        "user.overlay.opaque",
        b"y",
        rustix::fs::XattrFlags::empty(),
    )
    .expect("opaque xattr");
    fs::write(top.join("dir/new"), "x").expect("file");
    layers
}

fn check_merged(merged: &Path, what: &str) {
    for i in 0..LAYERS {
        assert!(
            merged.join(format!("only-{i}")).exists(),
            "{what}: only-{i} missing"
        );
    }
    assert_eq!(
        fs::read_to_string(merged.join("common")).expect("common"),
        (LAYERS - 1).to_string(),
        "{what}: top-most wins"
    );
    assert!(!merged.join("gone").exists(), "{what}: whiteout ignored");
    assert!(
        merged.join("dir/new").exists(),
        "{what}: opaque dir content"
    );
    assert!(
        !merged.join("dir/old").exists(),
        "{what}: opaque dir shows lower content"
    );
    // Writable: changes land in the merged view.
    fs::write(merged.join("written"), "y").expect("write through merged");
}

fn request(root: &Path, layers: &[PathBuf], name: &str) -> MountRequest {
    let req = MountRequest {
        layers: layers.to_vec(),
        upper: root.join(format!("{name}/upper")),
        work: root.join(format!("{name}/work")),
        target: root.join(format!("{name}/merged")),
        volatile: false,
    };
    for d in [&req.upper, &req.work, &req.target] {
        fs::create_dir_all(d).expect("mount dirs");
    }
    req
}

#[test]
fn drivers_assemble_210_layers_with_whiteouts() {
    if is_inner() {
        if let Some(code) = maybe_reexec_in_userns().unwrap() {
            assert_eq!(code, ExitCode::SUCCESS);
            return;
        }
        let root = PathBuf::from(std::env::var("WORK").unwrap());
        let layers = make_layers(&root);
        let option_len: usize = layers.iter().map(|l| l.as_os_str().len() + 1).sum();
        assert!(
            option_len > 4096,
            "the test must exceed the legacy page limit ({option_len})"
        );

        let detected = Driver::detect(&root);
        assert_eq!(
            detected.kind(),
            DriverKind::Overlay,
            "{:?}",
            detected.info()
        );
        assert!(detected.info().userxattr);
        let req = request(&root, &layers, "overlay");
        detected.mount(&req).unwrap();
        check_merged(&req.target, "overlay");
        assert!(req.upper.join("written").exists(), "write went to upper");
        detected.unmount(&req.target).unwrap();
        assert!(!req.target.join("common").exists());

        match Driver::by_name("fuse-overlayfs") {
            Ok(fuse) => {
                let req = request(&root, &layers, "fuse");
                fuse.mount(&req).unwrap();
                check_merged(&req.target, "fuse-overlayfs");
                fuse.unmount(&req.target).unwrap();
            }
            Err(e) => eprintln!("SKIP: fuse-overlayfs driver: {e}"),
        }

        let copy = Driver::by_name("copy").unwrap();
        let req = request(&root, &layers, "copy");
        copy.mount(&req).unwrap();
        check_merged(&req.target, "copy");
        println!("OVERLAY-OK");
        return;
    }
    let Some(user) = test_user() else { return };
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    user.chown(dir.path());
    let out = user.run_self(
        "overlay::drivers_assemble_210_layers_with_whiteouts",
        &[("WORK", dir.path().to_str().unwrap())],
    );
    assert_inner_ok(&out);
    for line in String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("SKIP"))
    {
        eprintln!("{line}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("OVERLAY-OK"));
}
