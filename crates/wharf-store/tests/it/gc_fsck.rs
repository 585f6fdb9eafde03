//! Garbage collection keeps exactly what images reach (and what live processes pinned); fsck
//! finds corrupted blobs and dangling references and says where.

use std::io::Write;

use wharf_oci::digest::sha256;
use wharf_store::{FsckProblem, Store, chain_id};

use crate::common::{commit_tiny, temp_store};

#[test]
fn gc_removes_unreferenced_blobs_and_layers_and_keeps_the_rest() {
    let (dir, store) = temp_store();
    let root = dir.path().join("root");
    let (kept, _) = commit_tiny(&store, "kept");
    let kept_config = sha256(&kept.config);

    // Written by a process that has ended (its handle is dropped): not pinned any more.
    let (gone, stray) = {
        let other = Store::open(&root).unwrap();
        let (gone, _) = commit_tiny(&other, "gone");
        let mut w = other.blob_writer(None).unwrap();
        w.write_all(b"nobody references me").unwrap();
        (gone, w.commit().unwrap().digest)
    };
    store.remove_image("gone").unwrap();

    // Layer trees: the kept image's chain stays, an unknown one goes.
    let kept_chain = chain_id(std::slice::from_ref(&kept.diff_id));
    std::fs::create_dir_all(store.layer_dir(&kept_chain[0]).join("etc")).unwrap();
    let stale_chain = sha256(b"stale chain");
    let stale_dir = store.layer_dir(&stale_chain);
    std::fs::create_dir_all(stale_dir.join("usr/share")).unwrap();
    // A read-only directory, as image layers have, must not stop removal.
    std::fs::set_permissions(
        stale_dir.join("usr"),
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .unwrap();

    let report = store.gc().unwrap();
    let mut removed: Vec<String> = report
        .removed_blobs
        .iter()
        .map(ToString::to_string)
        .collect();
    removed.sort();
    let gone_config = sha256(&gone.config);
    let gone_manifest = sha256(&gone.manifest);
    let mut expected = vec![
        stray.to_string(),
        gone.layer.to_string(),
        gone_config.to_string(),
        gone_manifest.to_string(),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(report.freed_bytes > 0);
    assert_eq!(report.removed_layers, [stale_chain.digest().to_owned()]);
    assert!(!stale_dir.exists());
    assert!(store.layer_dir(&kept_chain[0]).exists());
    for d in [&kept.layer, &kept_config, &sha256(&kept.manifest)] {
        assert!(store.has_blob(d), "referenced blob {d} was collected");
    }
    for d in [&stray, &gone.layer] {
        assert!(!store.has_blob(d));
    }
    assert!(store.fsck().unwrap().is_clean());
    // A second run finds nothing more.
    assert_eq!(store.gc().unwrap().removed_blobs.len(), 0);
}

#[test]
fn gc_keeps_blobs_a_live_process_has_not_referenced_yet() {
    let (dir, store) = temp_store();
    // Another live handle (another process mid-pull) wrote a layer but has not committed yet.
    let puller = Store::open(dir.path().join("root")).unwrap();
    let mut w = puller.blob_writer(None).unwrap();
    w.write_all(b"layer of a pull in progress").unwrap();
    let pending = w.commit().unwrap().digest;
    assert!(store.gc().unwrap().removed_blobs.is_empty());
    assert!(store.has_blob(&pending));
    drop(puller);
    assert_eq!(
        store.gc().unwrap().removed_blobs,
        std::slice::from_ref(&pending)
    );
    assert!(!store.has_blob(&pending));

    // Our own pins hold too, until released.
    let mut w = store.blob_writer(None).unwrap();
    w.write_all(b"ours, not referenced yet").unwrap();
    let ours = w.commit().unwrap().digest;
    assert!(store.gc().unwrap().removed_blobs.is_empty());
    store.release_pins().unwrap();
    assert_eq!(
        store.gc().unwrap().removed_blobs,
        std::slice::from_ref(&ours)
    );
}

#[test]
fn fsck_finds_a_corrupted_blob_and_a_dangling_reference() {
    let (_dir, store) = temp_store();
    let (img, _) = commit_tiny(&store, "app");
    assert!(store.fsck().unwrap().is_clean());

    // Flip one byte of the layer blob.
    let layer_path = store.blob_path(&img.layer);
    let mut bytes = std::fs::read(&layer_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&layer_path, &bytes).unwrap();
    // Remove the config blob.
    let config = sha256(&img.config);
    std::fs::remove_file(store.blob_path(&config)).unwrap();

    let report = store.fsck().unwrap();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| matches!(p,
        FsckProblem::CorruptBlob { path, expected, .. } if *path == layer_path && *expected == img.layer)));
    assert!(report.problems.iter().any(|p| matches!(p,
        FsckProblem::Dangling { digest, referrer, .. } if *digest == config && referrer.starts_with("config of manifest"))));
    for p in &report.problems {
        assert!(
            p.to_string()
                .contains(&store.oci_dir().display().to_string()),
            "{p}"
        );
    }
}

#[test]
fn gc_keeps_layer_trees_that_containers_mount() {
    let (_dir, store) = temp_store();
    let chain = sha256(b"a container's base layer");
    std::fs::create_dir_all(store.layer_dir(&chain).join("bin")).unwrap();
    store
        .record_container_layers("c1", std::slice::from_ref(&chain))
        .unwrap();
    assert!(store.gc().unwrap().removed_layers.is_empty());
    assert!(store.layer_dir(&chain).is_dir());
    std::fs::remove_dir_all(store.container_dir("c1").unwrap()).unwrap();
    assert_eq!(
        store.gc().unwrap().removed_layers,
        [chain.digest().to_owned()]
    );
    for bad in ["", "..", "../x", "a/b", ".hidden"] {
        assert!(store.container_dir(bad).is_err(), "{bad:?} accepted");
    }
}
