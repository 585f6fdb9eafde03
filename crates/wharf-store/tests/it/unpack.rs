//! Unpacked layers: one verified diff tree per layer, whiteouts in overlay's form, and the
//! stack mounts as kernel overlay to the image's filesystem.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use wharf_oci::ImageManifest;
use wharf_oci::media_type::{OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST};
use wharf_store::{Store, StoreError, chain_id};

use crate::common::{put_layer, temp_store, tmp_leftovers};

/// A two-layer image: the second deletes `gone` and makes `d` opaque.
fn two_layers(store: &Store) -> (ImageManifest, Vec<wharf_oci::Digest>) {
    let (l1, d1) = put_layer(
        store,
        &[
            ("etc/hello", b"hello\n"),
            ("d/old", b"old"),
            ("d/sub/x", b"x"),
            ("gone", b"bye"),
        ],
    );
    let (l2, d2) = put_layer(
        store,
        &[
            (".wh.gone", b""),
            ("d/.wh..wh..opq", b""),
            ("d/new", b"new"),
            ("etc/.wh.missing-in-lower", b""),
        ],
    );
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [d1.to_string(), d2.to_string()]}}))
    .unwrap();
    let c = store.put_blob_bytes(OCI_CONFIG, &config).unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": c.digest().to_string(), "size": c.size()},
        "layers": [
            {"mediaType": OCI_LAYER_GZIP, "digest": l1.digest.to_string(), "size": l1.size},
            {"mediaType": OCI_LAYER_GZIP, "digest": l2.digest.to_string(), "size": l2.size}]});
    (serde_json::from_value(manifest).unwrap(), vec![d1, d2])
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 64];
    let n = rustix::fs::lgetxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn is_whiteout(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if meta.file_type().is_char_device() {
        return std::os::unix::fs::MetadataExt::rdev(&meta) == 0;
    }
    meta.is_file() && xattr(path, "user.overlay.whiteout").is_some()
}

/// Checks the per-layer trees; returns the lower dirs bottom-first.
fn check_layer_trees(store: &Store) -> Vec<std::path::PathBuf> {
    let (manifest, diff_ids) = two_layers(store);
    let dirs = store.ensure_unpacked(&manifest, &diff_ids).unwrap();
    let chains = chain_id(&diff_ids);
    assert_eq!(
        dirs,
        [store.layer_dir(&chains[0]), store.layer_dir(&chains[1])]
    );
    // Layer 1 is its own tree.
    assert_eq!(
        std::fs::read(dirs[0].join("etc/hello")).unwrap(),
        b"hello\n"
    );
    assert_eq!(std::fs::read(dirs[0].join("d/sub/x")).unwrap(), b"x");
    // Layer 2 is only its diff, with overlay markers instead of OCI whiteout files.
    assert!(!dirs[1].join("etc/hello").exists());
    assert!(!dirs[1].join(".wh.gone").exists());
    assert!(is_whiteout(&dirs[1].join("gone")), "gone is not a whiteout");
    assert!(is_whiteout(&dirs[1].join("etc/missing-in-lower")));
    assert_eq!(std::fs::read(dirs[1].join("d/new")).unwrap(), b"new");
    assert!(!dirs[1].join("d/.wh..wh..opq").exists());
    assert_eq!(
        xattr(&dirs[1].join("d"), "user.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    if rustix::process::geteuid().is_root() {
        assert_eq!(
            xattr(&dirs[1].join("d"), "trusted.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
    }
    // Unpacking again is a no-op that returns the same directories.
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dirs[1]).unwrap());
    assert_eq!(store.ensure_unpacked(&manifest, &diff_ids).unwrap(), dirs);
    assert_eq!(
        ino,
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dirs[1]).unwrap())
    );
    assert!(tmp_leftovers(store.root()).is_empty());
    dirs
}

fn check_merged(merged: &Path) {
    assert_eq!(std::fs::read(merged.join("etc/hello")).unwrap(), b"hello\n");
    assert_eq!(std::fs::read(merged.join("d/new")).unwrap(), b"new");
    assert!(!merged.join("gone").exists(), "whiteout did not hide gone");
    assert!(
        !merged.join("d/old").exists(),
        "opaque dir shows lower content"
    );
    assert!(
        !merged.join("d/sub").exists(),
        "opaque dir shows lower content"
    );
}

#[test]
fn layers_unpack_to_overlay_lower_dirs() {
    let (dir, store) = temp_store();
    let dirs = check_layer_trees(&store);
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: mounting overlay over the unpacked layers needs root here");
        return;
    }
    let merged = dir.path().join("merged");
    std::fs::create_dir(&merged).unwrap();
    let lower = format!("lowerdir={}:{}", dirs[1].display(), dirs[0].display());
    let out = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &lower])
        .arg(&merged)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "SKIP: kernel overlay mount not permitted here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let result = std::panic::catch_unwind(|| check_merged(&merged));
    let _ = Command::new("umount").arg(&merged).status();
    result.unwrap();
}

#[test]
fn rootless_layers_unpack_and_mount_with_userxattr() {
    if wharf_testkit::user::is_inner() {
        let root = std::env::var("WHARF_STORE_UNPACK_ROOT").unwrap();
        let store = Store::open(&root).unwrap();
        let dirs = check_layer_trees(&store);
        // Mount as the unprivileged user inside a user namespace, as berth does.
        let merged = Path::new(&root).join("merged");
        std::fs::create_dir(&merged).unwrap();
        let script = format!(
            "mount -t overlay overlay -o userxattr,lowerdir={}:{} {} && cat {m}/d/new && echo && ls -A {m}/d && ls -A {m}",
            dirs[1].display(),
            dirs[0].display(),
            merged.display(),
            m = merged.display()
        );
        let out = Command::new("unshare")
            .args(["-Urm", "sh", "-c", &script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            eprintln!(
                "SKIP: rootless overlay mount not permitted: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        // cat d/new, then `ls -A d`, then `ls -A /`.
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, ["new", "new", "d", "etc"], "{stdout}");
        return;
    }
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("wharf-store-rootless")
        .tempdir_in("/tmp")
        .unwrap();
    user.chown(dir.path());
    let root = dir.path().join("root");
    let out = user.run_self(
        "unpack::rootless_layers_unpack_and_mount_with_userxattr",
        &[("WHARF_STORE_UNPACK_ROOT", root.to_str().unwrap())],
    );
    wharf_testkit::user::assert_inner_ok(&out);
}

#[test]
fn a_layer_with_the_wrong_diff_id_is_not_unpacked() {
    let (_dir, store) = temp_store();
    let (manifest, mut diff_ids) = two_layers(&store);
    let wrong = wharf_oci::digest::sha256(b"not this layer");
    diff_ids[1] = wrong.clone();
    let err = store.ensure_unpacked(&manifest, &diff_ids).unwrap_err();
    match &err {
        StoreError::DiffIdMismatch { expected, .. } => assert_eq!(**expected, wrong),
        other => panic!("{other:?}"),
    }
    let chains = chain_id(&diff_ids);
    assert!(
        store.layer_dir(&chains[0]).is_dir(),
        "the good first layer stays"
    );
    assert!(!store.layer_dir(&chains[1]).exists());
    assert!(tmp_leftovers(store.root()).is_empty());
    assert!(matches!(
        store.ensure_unpacked(&manifest, &diff_ids[..1]),
        Err(StoreError::LayerCountMismatch {
            layers: 2,
            diff_ids: 1
        })
    ));
}

#[test]
fn a_corrupted_layer_blob_is_not_unpacked() {
    let (_dir, store) = temp_store();
    let (manifest, diff_ids) = two_layers(&store);
    let layer = manifest.layers()[0].digest().clone();
    // Same size, one byte changed in the gzip trailer (CRC), so decompression itself may pass.
    let path = store.blob_path(&layer);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 6;
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = store.ensure_unpacked(&manifest, &diff_ids).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::DigestMismatch { .. } | StoreError::Archive { .. }
        ),
        "{err:?}"
    );
    assert!(!store.layer_dir(&chain_id(&diff_ids)[0]).exists());
    assert!(tmp_leftovers(store.root()).is_empty());
}

const UNPACK_ROOT: &str = "WHARF_STORE_UNPACK_RACE_ROOT";

#[test]
fn two_processes_unpacking_the_same_layers_agree() {
    if crate::common::is_child() {
        let store = Store::open(std::env::var(UNPACK_ROOT).unwrap()).unwrap();
        let rec = store.resolve("race").unwrap();
        let manifest: ImageManifest = store.read_json(rec.digest()).unwrap();
        let diff_ids = store.config_diff_ids(manifest.config().digest()).unwrap();
        let dirs = store.ensure_unpacked(&manifest, &diff_ids).unwrap();
        assert_eq!(std::fs::read(dirs[1].join("d/new")).unwrap(), b"new");
        return;
    }
    let (dir, store) = temp_store();
    let (manifest, _) = two_layers(&store);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    store
        .commit_image(&bytes, OCI_MANIFEST, &["race".into()])
        .unwrap();
    let root = dir.path().join("root").display().to_string();
    let children: Vec<_> = (0..3)
        .map(|_| {
            crate::common::spawn_child(
                "unpack::two_processes_unpacking_the_same_layers_agree",
                &[(UNPACK_ROOT, root.clone())],
            )
        })
        .collect();
    for c in children {
        crate::common::assert_child_ok(&c.wait_with_output().unwrap());
    }
    assert_eq!(std::fs::read_dir(store.layers_dir()).unwrap().count(), 2);
    assert!(tmp_leftovers(store.root()).is_empty());
}

#[test]
fn a_hostile_layer_is_refused_naming_the_layer_and_the_entry() {
    let (dir, store) = temp_store();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // The tar crate's builder refuses `..`: write the name into the header directly.
    let name = format!("../../../../../../..{}/f", outside.display());
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_mode(0o644);
    h.set_size(1);
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend_from_slice(&[b'x'; 512]);
    tar.extend_from_slice(&[0; 1024]);
    let diff_id = wharf_oci::digest::sha256(&tar);
    let mut w = store.blob_writer(None).unwrap();
    std::io::Write::write_all(&mut w, &tar).unwrap();
    let blob = w.commit().unwrap();
    let manifest: ImageManifest = serde_json::from_value(json!({"schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": blob.digest.to_string(), "size": blob.size},
        "layers": [{"mediaType": wharf_oci::media_type::OCI_LAYER_TAR,
            "digest": blob.digest.to_string(), "size": blob.size}]}))
    .unwrap();
    let err = store
        .ensure_unpacked(&manifest, std::slice::from_ref(&diff_id))
        .unwrap_err();
    let chain = {
        let mut msg = err.to_string();
        let mut src = std::error::Error::source(&err);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        msg
    };
    assert!(chain.contains(&blob.digest.to_string()), "{chain}");
    assert!(chain.contains(&name), "{chain}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!store.layer_dir(&chain_id(&[diff_id])[0]).exists());
    assert!(tmp_leftovers(store.root()).is_empty());
}

/// Records hold metadata only (no file is hashed at unpack); the full check extracts the
/// verified blob again and compares contents, so it still finds a change that left every
/// timestamp as recorded (as writing the block device would).
#[test]
fn the_full_check_compares_with_a_fresh_extraction_of_the_blob() {
    use std::os::unix::fs::MetadataExt;
    use wharf_store::{TreeCheck, TreeStatus};
    let (_dir, store) = temp_store();
    let (manifest, diff_ids) = two_layers(&store);
    let dirs = store.ensure_unpacked(&manifest, &diff_ids).unwrap();
    let chain = chain_id(&diff_ids)[0].clone();
    let record_path = store.root().join("layer-trees").join(chain.digest());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    assert_eq!(
        record["layer"]["digest"],
        manifest.layers()[0].digest().to_string()
    );
    assert_eq!(record["tree"]["etc/hello"]["content"], "", "{record}");
    for check in [TreeCheck::Fast, TreeCheck::Full] {
        assert_eq!(
            store.check_layer_tree(&chain, check).unwrap(),
            TreeStatus::Intact
        );
    }

    // Same size; then the record is made to agree with the new timestamps, as if the write
    // had not gone through the filesystem.
    let file = dirs[0].join("etc/hello");
    std::fs::write(&file, b"HELLO\n").unwrap();
    let m = std::fs::symlink_metadata(&file).unwrap();
    let mut record = record;
    let e = &mut record["tree"]["etc/hello"];
    e["ino"] = m.ino().into();
    e["mtime"] = json!([m.mtime(), m.mtime_nsec()]);
    e["ctime"] = json!([m.ctime(), m.ctime_nsec()]);
    std::fs::write(&record_path, serde_json::to_vec(&record).unwrap()).unwrap();
    assert_eq!(
        store.check_layer_tree(&chain, TreeCheck::Fast).unwrap(),
        TreeStatus::Intact
    );
    assert_eq!(
        store.check_layer_tree(&chain, TreeCheck::Full).unwrap(),
        TreeStatus::Changed(vec!["/etc/hello: its content changed".into()])
    );
    // The extraction made for the check is gone.
    assert!(tmp_leftovers(store.root()).is_empty());

    // A corrupted blob is not trusted as the reference: the check fails rather than compares.
    let blob = store.blob_path(manifest.layers()[0].digest());
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.len() - 6;
    bytes[at] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    assert!(store.check_layer_tree(&chain, TreeCheck::Full).is_err());
    assert!(tmp_leftovers(store.root()).is_empty());
}
