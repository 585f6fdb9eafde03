//! Issue 11, finding 10: a hostile or broken registry. A real `docker-registry` serves an image
//! whose config is larger than the config cap (uploaded through the registry API, which accepts
//! it), and an image whose layer blob was changed on the registry's disk after the push.
//! `berth pull` must fail with a clear error naming the blob, leave nothing of the image in the
//! store, never panic, and the store's other images must still be listed.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use wharf_testkit::registry::Registry;

use super::store::{Victim, text, victims};

/// One plain-HTTP request to the test registry; returns (status, headers, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response head");
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, head, resp[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then_some(v.trim())
        })
        .unwrap_or_else(|| panic!("{name} in {head}"))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Uploads `bytes` as a blob of `repo` (POST, then PUT with the digest).
fn upload_blob(reg: &Registry, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let (status, head, _) = http(
        reg.addr(),
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(status, 202, "{head}");
    let location = header(&head, "Location");
    let location = location
        .strip_prefix(&format!("http://{}", reg.addr()))
        .unwrap_or(location);
    let sep = if location.contains('?') { '&' } else { '?' };
    let (status, head, _) = http(
        reg.addr(),
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(status, 201, "{head}");
    digest
}

/// Pushes a small image with a layer of its own (not shared with the victim's store) to
/// `REG/repo:tag` from a scratch store; returns its manifest as stored. With `big`, a second
/// layer holds 48 MiB of random bytes (still in flight when the first one fails).
fn push_unique_image(reg: &Registry, work: &Path, repo_tag: &str, big: bool) -> serde_json::Value {
    let files = work.join("unique");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("payload"), repo_tag.repeat(4096)).unwrap();
    let tar = work.join("unique.tar");
    assert!(
        std::process::Command::new("tar")
            .arg("-C")
            .arg(&files)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    let store = work.join("pusher-store");
    crate::ok(
        "berth",
        &store,
        &["import", tar.to_str().unwrap(), "unique"],
    );
    let mut name = "store:localhost/unique:latest";
    if big {
        let ctx = work.join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(
            ctx.join("Dockerfile"),
            "FROM localhost/unique\nCOPY big /big\n",
        )
        .unwrap();
        let mut random = vec![0u8; 48 << 20];
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut random)
            .unwrap();
        std::fs::write(ctx.join("big"), random).unwrap();
        crate::ok(
            "kiln",
            &store,
            &["build", "-t", "unique2", ctx.to_str().unwrap()],
        );
        name = "store:localhost/unique2:latest";
    }
    crate::ok(
        "ferry",
        &store,
        &[
            "copy",
            "--dest-tls-verify=false",
            name,
            &format!("docker://{}/{repo_tag}", reg.addr()),
        ],
    );
    let (status, head, body) = http(
        reg.addr(),
        "GET",
        &format!(
            "/v2/{}/manifests/{}",
            repo_tag.split(':').next().unwrap(),
            repo_tag.split(':').nth(1).unwrap()
        ),
        &[(
            "Accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )],
        b"",
    );
    assert_eq!(status, 200, "{head}");
    serde_json::from_slice(&body).unwrap()
}

/// What every failed pull must satisfy: an error naming `blob` and `cause`, no panic, nothing
/// of the image in the store, the other image still listed.
fn assert_refused_cleanly(v: &Victim, image: &str, blobs: &[&str], cause: &str) {
    let out = v.out("berth", &["pull", "--tls-verify=false", image]);
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{}: pull of {image} succeeded",
        v.label()
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{}: panic on bad input: {err}",
        v.label()
    );
    assert!(
        err.contains(blobs[0].trim_start_matches("sha256:")) && err.contains(cause),
        "{}: the error names the blob {} and the cause ({cause}): {err}",
        v.label(),
        blobs[0]
    );
    for b in blobs {
        assert!(
            !v.blob(b).exists(),
            "{}: blob {b} of the refused image stayed in the store",
            v.label()
        );
    }
    let images = v.ok("berth", &["images"]);
    assert!(
        images.contains("localhost/box") && !images.contains(image.split(':').next().unwrap()),
        "{}: {images}",
        v.label()
    );
}

/// A config over the cap: before, `berth pull` stored it and then `berth images` failed for
/// every image (the store refused to read it back).
#[test]
fn a_huge_config_is_refused_and_the_store_stays_usable() {
    let reg = Registry::start_plain().expect("docker-registry is required");
    let work = tempfile::tempdir().unwrap();
    let manifest = push_unique_image(&reg, work.path(), "huge/box:orig", false);
    let (status, _, config) = http(
        reg.addr(),
        "GET",
        &format!(
            "/v2/huge/box/blobs/{}",
            manifest["config"]["digest"].as_str().unwrap()
        ),
        &[],
        b"",
    );
    assert_eq!(status, 200);
    let mut doc: serde_json::Value = serde_json::from_slice(&config).unwrap();
    // 17 MiB: over the 16 MiB config cap that the store also reads with.
    doc["padding"] = "x".repeat(17 << 20).into();
    let huge = serde_json::to_vec(&doc).unwrap();
    let digest = upload_blob(&reg, "huge/box", &huge);
    let mut m = manifest.clone();
    m["config"]["digest"] = digest.clone().into();
    m["config"]["size"] = huge.len().into();
    let media_type = m["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_owned();
    let (status, head, _) = http(
        reg.addr(),
        "PUT",
        "/v2/huge/box/manifests/1",
        &[("Content-Type", &media_type)],
        &serde_json::to_vec(&m).unwrap(),
    );
    assert_eq!(status, 201, "{head}");
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_owned();
    let image = format!("{}/huge/box:1", reg.addr());
    for v in victims() {
        assert_refused_cleanly(&v, &image, &[&digest, &layer], "more than");
    }
}

/// A layer blob changed on the registry's disk (same size) while another, large layer is
/// still downloading: before, `berth pull` printed a tokio panic backtrace (the runtime shut
/// down under the other layer's blocking writer) and left the blobs it had stored.
#[test]
fn a_corrupted_blob_fails_cleanly() {
    let reg = Registry::start_plain().expect("docker-registry is required");
    let work = tempfile::tempdir().unwrap();
    let manifest = push_unique_image(&reg, work.path(), "bad/box:1", true);
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "{manifest}"
    );
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let big = manifest["layers"][1]["digest"].as_str().unwrap().to_owned();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
    let hex = layer.trim_start_matches("sha256:");
    let data = reg
        .data_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let image = format!("{}/bad/box:1", reg.addr());
    for v in victims() {
        assert_refused_cleanly(&v, &image, &[&layer, &config, &big], "digest");
    }
}
