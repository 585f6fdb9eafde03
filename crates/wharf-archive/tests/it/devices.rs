//! The device-node policy of the applier: refuse, create, skip, or create-or-skip; fifos and
//! overlay whiteouts (character devices 0/0) are never subject to it.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use wharf_archive::{ApplyOptions, ArchiveError, DeviceNodes, apply_layer};

fn layer() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, kind: tar::EntryType, dev: (u32, u32)| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(0);
        h.set_device_major(dev.0).unwrap();
        h.set_device_minor(dev.1).unwrap();
        b.append_data(&mut h, name, std::io::empty()).unwrap();
    };
    add("null", tar::EntryType::Char, (1, 3));
    add("fifo", tar::EntryType::Fifo, (0, 0));
    add("sda", tar::EntryType::Block, (8, 0));
    add("wh", tar::EntryType::Char, (0, 0));
    add("file", tar::EntryType::Regular, (0, 0));
    b.into_inner().unwrap()
}

fn opts(devices: DeviceNodes) -> ApplyOptions {
    ApplyOptions {
        devices,
        same_owner: false,
        ..ApplyOptions::default()
    }
}

fn kind(p: &Path) -> Option<(&'static str, u64)> {
    let m = std::fs::symlink_metadata(p).ok()?;
    let ft = m.file_type();
    let k = if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_file() {
        "file"
    } else {
        "other"
    };
    Some((k, m.rdev()))
}

/// What every policy that accepts the layer leaves besides the devices.
fn check_rest(root: &Path) {
    assert_eq!(kind(&root.join("fifo")).map(|k| k.0), Some("fifo"));
    assert_eq!(kind(&root.join("wh")), Some(("char", 0)));
    assert_eq!(kind(&root.join("file")).map(|k| k.0), Some("file"));
}

#[test]
fn skip_leaves_devices_out_and_reports_them() {
    let tmp = tempfile::tempdir().unwrap();
    let stats = apply_layer(&layer()[..], tmp.path(), &opts(DeviceNodes::Skip)).unwrap();
    assert_eq!(stats.skipped_devices.count, 2);
    assert_eq!(stats.skipped_devices.first, ["null", "sda"]);
    assert_eq!(stats.entries, 5);
    assert!(kind(&tmp.path().join("null")).is_none());
    assert!(kind(&tmp.path().join("sda")).is_none());
    check_rest(tmp.path());
}

#[test]
fn refuse_names_the_device_but_accepts_a_whiteout_device() {
    let tmp = tempfile::tempdir().unwrap();
    let err = apply_layer(&layer()[..], tmp.path(), &opts(DeviceNodes::Refuse)).unwrap_err();
    assert!(
        matches!(&err, ArchiveError::DeviceNotAllowed { entry } if entry == "null"),
        "{err}"
    );
    // Without the real devices, the 0/0 whiteout and the fifo are fine under Refuse.
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind) in [("wh", tar::EntryType::Char), ("fifo", tar::EntryType::Fifo)] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o600);
        h.set_size(0);
        h.set_device_major(0).unwrap();
        h.set_device_minor(0).unwrap();
        b.append_data(&mut h, name, std::io::empty()).unwrap();
    }
    let other = tempfile::tempdir().unwrap();
    apply_layer(
        &b.into_inner().unwrap()[..],
        other.path(),
        &opts(DeviceNodes::Refuse),
    )
    .unwrap();
    assert_eq!(kind(&other.path().join("wh")), Some(("char", 0)));
}

#[test]
fn create_or_skip_creates_what_the_kernel_allows() {
    let tmp = tempfile::tempdir().unwrap();
    let stats = apply_layer(&layer()[..], tmp.path(), &opts(DeviceNodes::CreateOrSkip)).unwrap();
    check_rest(tmp.path());
    let null = kind(&tmp.path().join("null"));
    let sda = kind(&tmp.path().join("sda"));
    // Whatever the privileges: each device is either created right or reported skipped.
    let mut skipped = Vec::new();
    match null {
        Some(k) => assert_eq!(k, ("char", rustix::fs::makedev(1, 3))),
        None => skipped.push("null"),
    }
    match sda {
        Some(k) => assert_eq!(k, ("block", rustix::fs::makedev(8, 0))),
        None => skipped.push("sda"),
    }
    assert_eq!(stats.skipped_devices.first, skipped);
    if rustix::process::geteuid().is_root() && !wharf_testkit::user::is_inner() {
        assert!(skipped.is_empty(), "root could not create devices");
    }
}

#[test]
fn create_or_skip_skips_rootless_and_create_fails_naming_the_entry() {
    if wharf_testkit::user::is_inner() {
        let tmp = tempfile::tempdir().unwrap();
        let stats =
            apply_layer(&layer()[..], tmp.path(), &opts(DeviceNodes::CreateOrSkip)).unwrap();
        assert_eq!(stats.skipped_devices.first, ["null", "sda"]);
        check_rest(tmp.path());
        let tmp = tempfile::tempdir().unwrap();
        let err = apply_layer(&layer()[..], tmp.path(), &opts(DeviceNodes::Create)).unwrap_err();
        assert!(err.to_string().contains("\"null\""), "{err}");
        return;
    }
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    let out = user.run_self(
        "devices::create_or_skip_skips_rootless_and_create_fails_naming_the_entry",
        &[],
    );
    wharf_testkit::user::assert_inner_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}
