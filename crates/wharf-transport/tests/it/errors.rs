//! Failures: authentication, missing content, a registry that stops in the middle of a copy.

use std::sync::{Arc, Mutex};

use wharf_registry::{Credentials, RegistryError};
use wharf_testkit::registry::Registry;
use wharf_transport::{CopyOptions, Event, TransportError};

use crate::{BASE, base_store, client, copy, manifest, quick, try_copy};

#[test]
fn tls_registry_refuses_wrong_and_missing_credentials() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_tls_auth("alice", "s3cret") else {
        return;
    };
    let dst = format!("docker://{}/secure/busybox:1", reg.addr());
    let mut c = client(tmp.path());
    c.tls_verify = None;
    c.cert_dir = reg.cert_dir();
    let src = format!("store:{BASE}");

    let err = try_copy(&store, &c, &src, &dst, &quick()).unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Registry(RegistryError::Unauthorized { .. })
        ),
        "no credentials: {err}"
    );
    c.creds = Some(Credentials::new("alice", "wrong"));
    let err = try_copy(&store, &c, &src, &dst, &quick()).unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Registry(RegistryError::Unauthorized { .. })
        ),
        "wrong password: {err}"
    );
    // Without the CA, TLS verification fails.
    let mut no_ca = client(tmp.path());
    no_ca.tls_verify = None;
    no_ca.creds = Some(Credentials::new("alice", "s3cret"));
    assert!(try_copy(&store, &no_ca, &src, &dst, &quick()).is_err());

    c.creds = Some(Credentials::new("alice", "s3cret"));
    let r = copy(&store, &c, &src, &dst, &quick());
    assert_eq!(
        r.manifest_digest.unwrap(),
        manifest(&store, &c, &dst).digest
    );
}

#[test]
fn missing_tag_and_missing_blob_are_named() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let err = try_copy(
        &store,
        &c,
        &format!("docker://{}/nothing:here", reg.addr()),
        &format!("oci:{t}/o"),
        &quick(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Registry(e) if e.is_not_found()),
        "{err}"
    );
    let err = try_copy(
        &store,
        &c,
        "store:localhost/absent",
        &format!("oci:{t}/o"),
        &quick(),
    )
    .unwrap_err();
    assert!(matches!(err, TransportError::Store(_)), "{err}");

    // A layout that lost a layer blob: the copy fails naming it and the destination gets no manifest.
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("oci:{t}/broken:x"),
        &quick(),
    );
    let m = manifest(&store, &c, &format!("oci:{t}/broken:x"));
    let layer = m.image().unwrap().layers()[0].digest().clone();
    std::fs::remove_file(tmp.path().join("broken/blobs/sha256").join(layer.digest())).unwrap();
    let dst = format!("docker://{}/partial:x", reg.addr());
    let err = try_copy(&store, &c, &format!("oci:{t}/broken:x"), &dst, &quick()).unwrap_err();
    assert!(err.to_string().contains(layer.digest()), "{err}");
    let err = try_copy(&store, &c, &dst, &format!("oci:{t}/o2"), &quick()).unwrap_err();
    assert!(
        matches!(&err, TransportError::Registry(e) if e.is_not_found()),
        "{err}"
    );
}

#[test]
fn registry_stopped_mid_copy_leaves_no_manifest_and_a_rerun_completes() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let src = format!("docker://{}/int/busybox:1", reg.addr());
    let expected = copy(&store, &c, &format!("store:{BASE}"), &src, &quick())
        .manifest_digest
        .unwrap();
    let config_yml = reg.data_dir().parent().unwrap().join("config.yml");

    // Stop the registry as soon as the first blob transfer starts.
    let reg = Arc::new(Mutex::new(reg));
    let r2 = Arc::clone(&reg);
    let opts = CopyOptions {
        parallel: 1,
        progress: Some(Arc::new(move |e: &Event| {
            if matches!(e, Event::BlobStarted { .. }) {
                r2.lock().unwrap().stop();
            }
        })),
        ..quick()
    };
    let dst = format!("oci:{t}/interrupted:x");
    assert!(try_copy(&store, &c, &src, &dst, &opts).is_err());
    let index = std::fs::read_to_string(tmp.path().join("interrupted/index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 0, "{index}");

    // Same data, same port: the registry comes back and the rerun finishes.
    let mut child = std::process::Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&config_yml)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut result = None;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        match try_copy(&store, &c, &src, &dst, &quick()) {
            Ok(r) => {
                result = Some(r);
                break;
            }
            Err(e) if e.is_retryable() || e.to_string().contains("connect") => {}
            Err(e) => {
                let _ = child.kill();
                panic!("rerun failed: {e}");
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let r = result.expect("the restarted registry never answered");
    assert_eq!(r.manifest_digest.unwrap(), expected);
    assert_eq!(manifest(&store, &c, &dst).digest, expected);
}

/// A registry that serves wrong bytes for a layer (its file changed on disk, same size): the
/// download's own check is the only hash on the way to a layout, `dir:` or another registry,
/// so each copy must still fail naming the layer and leave no blob and no manifest behind.
#[test]
fn corrupted_registry_blob_is_refused_by_every_destination() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let (Some(reg), Some(dst_reg)) = (Registry::start_plain(), Registry::start_plain()) else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let src = format!("docker://{}/bad:x", reg.addr());
    copy(&store, &c, &format!("store:{BASE}"), &src, &quick());
    let m = manifest(&store, &c, &src);
    let layer = m.image().unwrap().layers()[0].digest().clone();
    let hex = layer.digest();
    let data = reg
        .data_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();

    for dst in [
        format!("oci:{t}/o:x"),
        format!("dir:{t}/d"),
        format!("docker://{}/bad:x", dst_reg.addr()),
    ] {
        let err = try_copy(&store, &c, &src, &dst, &quick()).unwrap_err();
        assert!(err.to_string().contains(hex), "{dst}: {err}");
    }
    for dir in ["o/blobs/sha256", "d"] {
        let p = tmp.path().join(dir);
        let names: Vec<String> = std::fs::read_dir(&p)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            !names.iter().any(|n| n == hex || n.starts_with(".tmp")),
            "{dir}: {names:?}"
        );
        assert!(
            !names.iter().any(|n| n == "manifest.json"),
            "{dir}: {names:?}"
        );
    }
    assert!(
        !tmp.path().join("o/index.json").exists() || {
            let idx = std::fs::read_to_string(tmp.path().join("o/index.json")).unwrap();
            !idx.contains("\"x\"")
        }
    );
    let err = try_copy(
        &store,
        &c,
        &format!("docker://{}/bad:x", dst_reg.addr()),
        &format!("oci:{t}/o3"),
        &quick(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Registry(e) if e.is_not_found()),
        "{err}"
    );
}

/// The destination's upload session is opened while the source's blob is requested; when the
/// source then fails (here a layout whose layer blob is gone), the copy fails naming the blob
/// and gives the session back instead of leaving it open in the registry.
#[test]
fn a_source_blob_that_fails_leaves_no_upload_session_open() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let layout = format!("oci:{t}/layout:v1");
    copy(&store, &c, &format!("store:{BASE}"), &layout, &quick());
    let m = manifest(&store, &c, &layout);
    let layer = m.image().unwrap().layers()[0].digest().clone();
    std::fs::remove_file(tmp.path().join("layout/blobs/sha256").join(layer.digest())).unwrap();

    let dst = format!("docker://{}/dst/busybox:v1", reg.addr());
    let err = try_copy(&store, &c, &layout, &dst, &quick()).unwrap_err();
    assert!(err.to_string().contains(layer.digest()), "{err}");
    let uploads = reg
        .data_dir()
        .join("docker/registry/v2/repositories/dst/busybox/_uploads");
    // An open session is a directory with its start time (a cancelled one may leave its
    // hash state behind, without data or start time, which the registry's purge removes).
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.join("startedat").exists())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "upload sessions left open: {left:?}");
}
