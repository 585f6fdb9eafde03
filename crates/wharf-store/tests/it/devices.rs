//! Device nodes in layers: real root creates them; an unprivileged user (whose `mknod` the
//! kernel refuses) unpacks the rest of the layer and gets the skipped nodes reported, as
//! containers/storage does rootless. Overlay whiteouts (character devices 0/0) are never
//! taken for devices.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use wharf_oci::ImageManifest;
use wharf_oci::media_type::{OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST};
use wharf_store::{Store, default_apply_options};

use crate::common::tmp_leftovers;

fn node(b: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, dev: (u32, u32)) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(if kind.is_dir() { 0o755 } else { 0o666 });
    h.set_size(0);
    h.set_mtime(1_700_000_000);
    h.set_device_major(dev.0).unwrap();
    h.set_device_minor(dev.1).unwrap();
    b.append_data(&mut h, name, std::io::empty()).unwrap();
}

/// A one-layer image like a distribution's base layer with a populated `/dev`.
fn image_with_devices(store: &Store) -> (ImageManifest, Vec<wharf_oci::Digest>) {
    let mut b = tar::Builder::new(Vec::new());
    node(&mut b, "dev/", tar::EntryType::Directory, (0, 0));
    node(&mut b, "dev/null", tar::EntryType::Char, (1, 3));
    node(&mut b, "dev/zero", tar::EntryType::Char, (1, 5));
    node(&mut b, "dev/loop0", tar::EntryType::Block, (7, 0));
    node(&mut b, "dev/initctl", tar::EntryType::Fifo, (0, 0));
    node(&mut b, "dev/whiteout", tar::EntryType::Char, (0, 0));
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o644);
    h.set_size(6);
    h.set_mtime(1_700_000_000);
    b.append_data(&mut h, "etc/hello", &b"hello\n"[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let diff_id = wharf_oci::digest::sha256(&tar);
    let mut gz = GzEncoder::new(store.blob_writer(None).unwrap(), Compression::fast());
    gz.write_all(&tar).unwrap();
    let layer = gz.finish().unwrap().commit().unwrap();
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]}}))
    .unwrap();
    let c = store.put_blob_bytes(OCI_CONFIG, &config).unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": c.digest().to_string(), "size": c.size()},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer.digest.to_string(), "size": layer.size}]});
    (serde_json::from_value(manifest).unwrap(), vec![diff_id])
}

fn rdev(path: &Path) -> Option<(u64, bool)> {
    let m = std::fs::symlink_metadata(path).ok()?;
    let ft = m.file_type();
    (ft.is_char_device() || ft.is_block_device()).then(|| (m.rdev(), ft.is_block_device()))
}

/// Unpacks with the store's defaults and checks the tree; `rootless` says what to expect.
fn check(store: &Store, rootless: bool) {
    let (manifest, diff_ids) = image_with_devices(store);
    let done = store
        .unpack_layers(&manifest, &diff_ids, &default_apply_options())
        .unwrap();
    let dir = &done.dirs[0];
    assert_eq!(std::fs::read(dir.join("etc/hello")).unwrap(), b"hello\n");
    assert!(
        std::fs::symlink_metadata(dir.join("dev/initctl"))
            .unwrap()
            .file_type()
            .is_fifo(),
        "fifos are created rootless too"
    );
    assert_eq!(
        rdev(&dir.join("dev/whiteout")),
        Some((0, false)),
        "a 0/0 character device is a whiteout, created even rootless"
    );
    if rootless {
        for dev in ["null", "zero", "loop0"] {
            assert!(!dir.join("dev").join(dev).exists(), "dev/{dev} was created");
        }
        let layer = manifest.layers()[0].digest().clone();
        assert_eq!(done.skipped_devices.len(), 1, "{done:?}");
        assert_eq!(done.skipped_devices[0].0, layer);
        assert_eq!(done.skipped_devices[0].1.count, 3);
        assert_eq!(
            done.skipped_devices[0].1.first,
            ["dev/null", "dev/zero", "dev/loop0"]
        );
    } else {
        let mk = |ma, mi| rustix::fs::makedev(ma, mi);
        assert_eq!(rdev(&dir.join("dev/null")), Some((mk(1, 3), false)));
        assert_eq!(rdev(&dir.join("dev/zero")), Some((mk(1, 5), false)));
        assert_eq!(rdev(&dir.join("dev/loop0")), Some((mk(7, 0), true)));
        assert!(done.skipped_devices.is_empty(), "{done:?}");
    }
    // Already unpacked: the same directory, nothing reported again.
    let again = store
        .unpack_layers(&manifest, &diff_ids, &default_apply_options())
        .unwrap();
    assert_eq!(again.dirs, done.dirs);
    assert!(again.skipped_devices.is_empty());
    assert!(tmp_leftovers(store.root()).is_empty());
}

#[test]
fn device_nodes_are_created_by_root_and_skipped_rootless() {
    if wharf_testkit::user::is_inner() {
        let root = std::env::var("WHARF_STORE_DEVICES_ROOT").unwrap();
        check(&Store::open(&root).unwrap(), true);
        return;
    }
    let euid_root = rustix::process::geteuid().is_root();
    let initial_ns = std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    if euid_root && initial_ns {
        let (_dir, store) = crate::common::temp_store();
        check(&store, false);
    } else {
        eprintln!("SKIP (part): creating device nodes needs real root");
    }
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("wharf-store-devices")
        .tempdir_in("/tmp")
        .unwrap();
    user.chown(dir.path());
    let root = dir.path().join("root");
    let out = user.run_self(
        "devices::device_nodes_are_created_by_root_and_skipped_rootless",
        &[("WHARF_STORE_DEVICES_ROOT", root.to_str().unwrap())],
    );
    wharf_testkit::user::assert_inner_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the unprivileged part did not run"
    );
}
