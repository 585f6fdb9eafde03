//! Helpers shared by the store tests: temporary stores, tiny real images, child processes.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingWriter};
use wharf_oci::media_type::{OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST};
use wharf_store::Store;

/// Set in a re-run of this test binary to tell a test to do its child part.
pub const CHILD_ENV: &str = "WHARF_STORE_TEST_CHILD";

/// A store in a fresh temporary directory under /tmp (kept alive by the returned guard).
pub fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::Builder::new()
        .prefix("wharf-store-test")
        .tempdir_in("/tmp")
        .unwrap();
    let store = Store::open(dir.path().join("root")).unwrap();
    (dir, store)
}

/// Whether this process is a child re-run of `test`.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Re-runs this test binary for one test with `CHILD_ENV` and extra variables set.
pub fn spawn_child(test: &str, envs: &[(&str, String)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Asserts that a child test run passed (and really ran the test).
pub fn assert_child_ok(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

/// What [`build_image`] made.
#[derive(Debug, Clone)]
pub struct TinyImage {
    pub manifest: Vec<u8>,
    pub config: Vec<u8>,
    pub layer: Digest,
    pub diff_id: Digest,
}

/// Streams a gzip layer made of `files` (path, content) into the store; returns (blob, diff ID).
pub fn put_layer(store: &Store, files: &[(&str, &[u8])]) -> (wharf_store::StoredBlob, Digest) {
    let writer = store.blob_writer(None).unwrap();
    let gz = GzEncoder::new(writer, Compression::fast());
    let mut tar = tar::Builder::new(HashingWriter::new(gz, Hasher::sha256()));
    let mut dirs = std::collections::BTreeSet::new();
    for (path, _) in files {
        let mut p = Path::new(path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_owned());
            p = d.parent();
        }
    }
    for d in dirs {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(1_700_000_000);
        tar.append_data(&mut h, format!("{}/", d.display()), std::io::empty())
            .unwrap();
    }
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        h.set_mtime(1_700_000_000);
        tar.append_data(&mut h, path, *content).unwrap();
    }
    let hashing = tar.into_inner().unwrap();
    let (diff_id, _, gz) = hashing.finish();
    let mut writer = gz.finish().unwrap();
    writer.flush().unwrap();
    (writer.commit().unwrap(), diff_id)
}

/// Builds a one-layer image in the store (not yet named): layer, config and manifest bytes.
pub fn build_image(store: &Store, tag_file: &str) -> TinyImage {
    let content = format!("hello from {tag_file}\n");
    let (layer, diff_id) = put_layer(
        store,
        &[
            ("etc/hello", content.as_bytes()),
            (&format!("srv/{tag_file}"), b"x"),
        ],
    );
    let config = serde_json::to_vec(&json!({
        "created": "2024-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "wharf-store test"}]
    }))
    .unwrap();
    let config_desc = store.put_blob_bytes(OCI_CONFIG, &config).unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_desc.digest().to_string(), "size": config_desc.size()},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer.digest.to_string(), "size": layer.size}]
    }))
    .unwrap();
    TinyImage {
        manifest,
        config,
        layer: layer.digest,
        diff_id,
    }
}

/// Builds and commits a one-layer image under `name`; returns its manifest digest.
pub fn commit_tiny(store: &Store, name: &str) -> (TinyImage, Digest) {
    let img = build_image(store, &name.replace(['/', ':'], "_"));
    let d = store
        .commit_image(&img.manifest, OCI_MANIFEST, &[name.to_owned()])
        .unwrap();
    (img, d.digest().clone())
}

/// The names recorded in a layout's `index.json`, read straight from the file.
pub fn index_names(root: &Path) -> Vec<String> {
    let bytes = std::fs::read(root.join("oci/index.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"][wharf_store::REF_NAME].as_str())
        .map(str::to_owned)
        .collect()
}

/// Entries of `tmp/` other than lease files.
pub fn tmp_leftovers(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| Path::new(n).extension().is_none_or(|e| e != "lease"))
        .collect()
}

/// Whether `prog` can be run; prints a SKIP line when not.
pub fn have_tool(prog: &str) -> bool {
    let ok = Command::new(prog)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: {prog} is not installed (Debian package {prog})");
    }
    ok
}
