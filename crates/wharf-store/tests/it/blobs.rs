//! Blob writes: verified before they become visible, and nothing visible after a crash.

use std::io::Write;
use std::time::{Duration, Instant};

use wharf_oci::digest::sha256;
use wharf_store::{Store, StoreError};

use crate::common::{spawn_child, temp_store, tmp_leftovers};

#[test]
fn blob_with_wrong_digest_is_refused_and_not_stored() {
    let (_dir, store) = temp_store();
    let claimed = sha256(b"what the registry promised");
    let mut w = store.blob_writer(Some((&claimed, 11))).unwrap();
    w.write_all(b"other bytes").unwrap();
    let err = w.commit().unwrap_err();
    let actual = sha256(b"other bytes");
    match &err {
        StoreError::DigestMismatch {
            expected,
            actual: got,
        } => {
            assert_eq!(expected, &claimed);
            assert_eq!(got, &actual);
        }
        other => panic!("wrong error: {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&claimed.to_string()) && msg.contains(&actual.to_string()),
        "{msg}"
    );
    assert!(!store.has_blob(&claimed));
    assert!(!store.has_blob(&actual));
    assert!(
        tmp_leftovers(store.root()).is_empty(),
        "temp file left behind"
    );
}

#[test]
fn blob_with_wrong_size_is_refused_and_not_stored() {
    let (_dir, store) = temp_store();
    let data = b"twelve bytes";
    let digest = sha256(data);
    // The right digest but a descriptor size that lies.
    let mut w = store.blob_writer(Some((&digest, 13))).unwrap();
    w.write_all(data).unwrap();
    let err = w.commit().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SizeMismatch {
                expected: 13,
                actual: 12,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!store.has_blob(&digest));

    // A stream longer than announced is stopped while writing.
    let mut w = store.blob_writer(Some((&digest, 5))).unwrap();
    let write_err = w.write_all(data).unwrap_err();
    assert_eq!(write_err.kind(), std::io::ErrorKind::InvalidData);
    drop(w);
    assert!(!store.has_blob(&digest));
    assert!(
        tmp_leftovers(store.root()).is_empty(),
        "temp file left behind"
    );
}

#[test]
fn verified_blob_is_stored_once_and_readable() {
    let (_dir, store) = temp_store();
    let data = vec![42u8; 3 << 20];
    let digest = sha256(&data);
    let mut w = store
        .blob_writer(Some((&digest, data.len() as u64)))
        .unwrap();
    for chunk in data.chunks(70_000) {
        w.write_all(chunk).unwrap();
    }
    let blob = w.commit().unwrap();
    assert_eq!(blob.digest, digest);
    assert_eq!(std::fs::read(store.blob_path(&digest)).unwrap(), data);
    assert_eq!(
        store.blob_path(&digest),
        store.oci_dir().join("blobs/sha256").join(digest.digest())
    );
    let d = store
        .put_blob_bytes("application/json", b"{\"a\":1}")
        .unwrap();
    let again = store
        .put_blob_bytes("application/json", b"{\"a\":1}")
        .unwrap();
    assert_eq!(d, again);
    let v: serde_json::Value = store.read_json(d.digest()).unwrap();
    assert_eq!(v["a"], 1);
    let missing = sha256(b"never stored");
    assert!(matches!(
        store.open_blob(&missing),
        Err(StoreError::BlobNotFound { .. })
    ));
}

const KILL_ROOT: &str = "WHARF_STORE_KILL_ROOT";
const HALF: usize = 1 << 20;

/// Child: writes half of a blob, says so, and waits to be killed.
fn write_half_and_wait() {
    let root = std::env::var(KILL_ROOT).unwrap();
    let store = Store::open(&root).unwrap();
    let full = vec![7u8; 2 * HALF];
    let digest = sha256(&full);
    let mut w = store
        .blob_writer(Some((&digest, full.len() as u64)))
        .unwrap();
    w.write_all(&full[..HALF]).unwrap();
    w.flush().unwrap();
    std::fs::write(format!("{root}.ready"), digest.to_string()).unwrap();
    std::thread::sleep(Duration::from_mins(2));
    panic!("not killed");
}

#[test]
fn killed_blob_writer_leaves_no_visible_blob() {
    if crate::common::is_child() {
        write_half_and_wait();
        return;
    }
    let (dir, _) = temp_store();
    let root = dir.path().join("root");
    let ready = dir.path().join("root.ready");
    let mut child = spawn_child(
        "blobs::killed_blob_writer_leaves_no_visible_blob",
        &[(KILL_ROOT, root.display().to_string())],
    );
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "child never got half-way"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child ended early: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    let digest = wharf_oci::digest::parse(&std::fs::read_to_string(&ready).unwrap()).unwrap();

    // The half-written file is in tmp/, never under blobs/.
    let leftovers = tmp_leftovers(&root);
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    let partial = root.join("tmp").join(&leftovers[0]);
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), HALF as u64);

    let store = Store::open(&root).unwrap();
    assert!(!store.has_blob(&digest));
    assert!(!partial.exists(), "reopen did not clean tmp/");
    let names: Vec<_> = std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        1,
        "only our own lease should remain: {names:?}"
    );
    let report = store.fsck().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

#[test]
fn reopening_keeps_a_live_writers_temp_files() {
    let (dir, store) = temp_store();
    let mut w = store.blob_writer(None).unwrap();
    w.write_all(b"in flight").unwrap();
    w.flush().unwrap();
    // A second handle (as another process would) must not take our in-flight file away.
    let other = Store::open(dir.path().join("root")).unwrap();
    let blob = w.commit().unwrap();
    assert!(other.has_blob(&blob.digest));
}

/// A blob of several writeback steps (the writer starts writeback every 8 MiB as it grows)
/// arrives whole, in odd-sized writes, and a wrong last byte is still refused.
#[test]
fn a_large_blob_written_in_odd_pieces_is_stored_whole() {
    let (_dir, store) = temp_store();
    let data: Vec<u8> = (0..(20u32 << 20) + 12_345)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let digest = sha256(&data);
    let mut w = store
        .blob_writer(Some((&digest, data.len() as u64)))
        .unwrap();
    for piece in data.chunks(1_000_003) {
        w.write_all(piece).unwrap();
    }
    let stored = w.commit().unwrap();
    assert_eq!(stored.digest, digest);
    let mut back = Vec::new();
    std::io::Read::read_to_end(&mut store.open_blob(&digest).unwrap(), &mut back).unwrap();
    assert!(
        back == data,
        "the stored blob differs from what was written"
    );

    let mut bad = data.clone();
    *bad.last_mut().unwrap() ^= 1;
    let mut w = store
        .blob_writer(Some((&digest, bad.len() as u64)))
        .unwrap();
    w.write_all(&bad).unwrap();
    assert!(matches!(w.commit(), Err(StoreError::DigestMismatch { .. })));
}
