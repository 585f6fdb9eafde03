//! The applier's overlay-output mode: OCI whiteouts written as overlay's markers, nothing
//! deleted, same-layer entries winning over the layer's own whiteouts, and markers that never
//! land outside the root.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use wharf_archive::{ApplyOptions, Whiteouts, apply_layer};

fn entry(b: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, link: Option<&str>) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    h.set_size(0);
    h.set_mtime(1_000_000);
    h.set_device_major(0).unwrap();
    h.set_device_minor(0).unwrap();
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    b.append_data(&mut h, name, std::io::empty()).unwrap();
}

fn overlay() -> ApplyOptions {
    ApplyOptions {
        same_owner: false,
        whiteouts: Whiteouts::Overlay {
            xattr_fallback: true,
        },
        ..ApplyOptions::default()
    }
}

fn is_whiteout(p: &Path) -> bool {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return false;
    };
    (m.file_type().is_char_device() && m.rdev() == 0)
        || (m.is_file()
            && xattr::get(p, "user.overlay.whiteout")
                .ok()
                .flatten()
                .is_some())
}

fn xattr_of(p: &Path, name: &str) -> Option<Vec<u8>> {
    xattr::get(p, name).ok().flatten()
}

#[test]
fn whiteouts_become_overlay_markers_and_nothing_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A root that is not fresh: overlay mode deletes only what a whiteout replaces.
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::write(root.join("d/old"), b"lower").unwrap();
    std::fs::create_dir_all(root.join("gone/sub")).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    entry(&mut b, "d/", tar::EntryType::Directory, None);
    entry(&mut b, "d/.wh..wh..opq", tar::EntryType::Regular, None);
    entry(&mut b, "d/new", tar::EntryType::Regular, None);
    entry(&mut b, ".wh.gone", tar::EntryType::Regular, None);
    entry(
        &mut b,
        "etc/deep/.wh.missing",
        tar::EntryType::Regular,
        None,
    );
    entry(
        &mut b,
        "implicit/.wh..wh..opq",
        tar::EntryType::Regular,
        None,
    );
    entry(&mut b, "mine", tar::EntryType::Regular, None);
    entry(&mut b, ".wh.mine", tar::EntryType::Regular, None);
    entry(&mut b, ".wh.later", tar::EntryType::Regular, None);
    entry(&mut b, "later", tar::EntryType::Directory, None);
    entry(&mut b, "cdev", tar::EntryType::Char, None);
    entry(&mut b, ".wh..wh.plnk", tar::EntryType::Regular, None);
    let layer = b.into_inner().unwrap();
    let stats = apply_layer(&layer[..], root, &overlay()).unwrap();
    assert_eq!(stats.entries, 12);

    assert!(is_whiteout(&root.join("gone")), "gone is not a whiteout");
    assert!(is_whiteout(&root.join("etc/deep/missing")));
    assert!(is_whiteout(&root.join("cdev")), "a 0/0 entry is a whiteout");
    assert!(root.join("d/old").exists(), "overlay mode deleted d/old");
    assert!(root.join("d/new").is_file());
    assert!(
        root.join("mine").is_file(),
        "the layer's own file was whited out"
    );
    assert!(
        root.join("later").is_dir(),
        "a later entry replaces the whiteout"
    );
    for name in [".wh.gone", "d/.wh..wh..opq", ".wh..wh.plnk", ".wh.mine"] {
        assert!(!root.join(name).exists(), "{name} was written as a file");
    }
    for dir in ["d", "implicit"] {
        assert_eq!(
            xattr_of(&root.join(dir), "user.overlay.opaque").as_deref(),
            Some(&b"y"[..]),
            "{dir} is not opaque"
        );
        if rustix::process::geteuid().is_root() {
            assert_eq!(
                xattr_of(&root.join(dir), "trusted.overlay.opaque").as_deref(),
                Some(&b"y"[..])
            );
        }
    }
    assert_eq!(xattr_of(root, "user.overlay.opaque"), None);
}

#[test]
fn overlay_markers_through_symlinks_stay_inside_the_root() {
    let tmp = tempfile::Builder::new()
        .prefix("wharf-ovl-out")
        .tempdir_in("/tmp")
        .unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim"), b"host").unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let out = outside.to_str().unwrap();
    // The link's target exists inside the root too (a dangling one is an error): markers
    // must land there, not on the host directory of the same name.
    let inside = root.join(out.trim_start_matches('/'));
    std::fs::create_dir_all(&inside).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    entry(&mut b, "s", tar::EntryType::Symlink, Some(out));
    entry(&mut b, "s/.wh.victim", tar::EntryType::Regular, None);
    entry(&mut b, "s/.wh..wh..opq", tar::EntryType::Regular, None);
    entry(&mut b, "up", tar::EntryType::Symlink, Some("/../../.."));
    entry(&mut b, "up/.wh.outside", tar::EntryType::Regular, None);
    let layer = b.into_inner().unwrap();
    apply_layer(&layer[..], &root, &overlay()).unwrap();
    assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"host");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    assert_eq!(xattr_of(&outside, "user.overlay.opaque"), None);
    assert!(tmp.path().join("outside").is_dir());
    // The symlinks resolve inside the root, where the markers landed.
    assert!(is_whiteout(&inside.join("victim")));
    assert_eq!(
        xattr_of(&inside, "user.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert!(root.join("s").is_symlink(), "the link itself stays");
    assert!(is_whiteout(&root.join("outside")));
}
