//! Referrers that survive copies (issue 17 §4): `ferry copy --referrers` carries an image's
//! cosign signature (OCI 1.1 referrer form) and a hand-made in-toto attestation, with a
//! referrer of that attestation, through Debian's `docker-registry` (tag fallback), a registry
//! with the referrers API (`wharf_testkit::referrers`, the one fake: Debian has no such
//! registry), an `oci:` layout and back; the signature still passes the policy at the end.
//! Hostile listings (not JSON, 10,000 entries, a lying entry, a loop, a tampered manifest)
//! end with clear errors and no referrer stored.
//!
//! Debian's skopeo has sigstore disabled, so the final signature check is Wharf's policy; the
//! fallback tag is read with `skopeo inspect --raw`.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use wharf_testkit::referrers::ReferrersRegistry;
use wharf_testkit::registry::Registry;

use crate::{busybox_store, have, ok, run, text};

const EMPTY: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Writes `bytes` as a blob of the layout `dir`; returns its descriptor.
fn put_blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let d = wharf_oci::digest::sha256(bytes);
    std::fs::write(dir.join("blobs/sha256").join(d.digest()), bytes).unwrap();
    json!({"mediaType": media_type, "digest": d.to_string(), "size": bytes.len()})
}

fn index(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

/// The index entries of a layout that are referrers (an `artifactType`, no ref name).
fn referrer_entries(dir: &Path) -> Vec<Value> {
    index(dir)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d.get("artifactType").is_some()
                && d["annotations"]["org.opencontainers.image.ref.name"].is_null()
        })
        .cloned()
        .collect()
}

/// Adds a referrer manifest of `artifact_type` naming `subject` (one layer of `content`) to
/// the layout `dir`, listed in its index.json as the convention says; returns its descriptor.
fn add_referrer(dir: &Path, subject: &Value, artifact_type: &str, content: &[u8]) -> Value {
    std::fs::write(dir.join("blobs/sha256").join(&EMPTY[7..]), b"{}").unwrap();
    let layer = put_blob(dir, artifact_type, content);
    let m = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY, "size": 2},
        "layers": [layer],
        "subject": subject,
    });
    let mut desc = put_blob(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&m).unwrap(),
    );
    desc["artifactType"] = artifact_type.into();
    let mut idx = index(dir);
    idx["manifests"].as_array_mut().unwrap().push(desc.clone());
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    desc
}

/// The descriptor of the image named `name` in the layout `dir`.
fn image_entry(dir: &Path, name: &str) -> Value {
    let mut d = index(dir)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .cloned()
        .unwrap();
    d.as_object_mut().unwrap().remove("annotations");
    d
}

/// Copies the store's busybox into an `oci:` layout at `dir` as `img`: its reference and
/// its index entry (without annotations).
fn busybox_layout(root: &Path, dir: &Path) -> (String, Value) {
    let reference = format!("oci:{}:img", dir.display());
    ok(
        "ferry",
        root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "store:localhost/busybox:latest",
            &reference,
        ],
    );
    (reference, image_entry(dir, "img"))
}

fn skopeo_raw(reference: &str) -> Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{reference}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn artifact_types(index: &Value) -> Vec<String> {
    let mut v: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["artifactType"].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

/// The full round: oci: (hand-made attestation and its referrer) → docker-registry (signed on
/// the way, cosign OCI 1.1 form; tag fallback) → referrers-API registry under another name →
/// oci: → docker-registry; the fallback tag lists the signature and the attestation, the
/// referrers API lists them, and the signature passes a sigstoreSigned policy at the end while
/// a copy without --referrers is refused by the same policy.
#[test]
fn referrers_survive_registry_layout_registry_copies() {
    if !have("skopeo") {
        return;
    }
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let (Some(r1), Some(r2)) = (Registry::start_plain(), ReferrersRegistry::start()) else {
        return;
    };
    let (a1, a2) = (r1.addr(), r2.addr());
    let d = tmp.path();
    let pass = d.join("pass");
    std::fs::write(&pass, "s3cret\n").unwrap();
    let key = d.join("key");
    crate::signatures::sigstore_key(&root, &key, &pass);
    let regd = crate::signatures::sigstore_registries_d(d);
    let regd_s = regd.to_str().unwrap();

    let src = d.join("src");
    let src_s = src.to_str().unwrap();
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "store:localhost/busybox:latest",
            &format!("oci:{src_s}:img"),
        ],
    );
    let image = image_entry(&src, "img");
    let digest = image["digest"].as_str().unwrap().to_owned();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "img", "digest": {"sha256": &digest[7..]}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "hand-made"}},
    });
    let attestation = add_referrer(
        &src,
        &image,
        IN_TOTO,
        &serde_json::to_vec(&statement).unwrap(),
    );
    let att_digest = attestation["digest"].as_str().unwrap().to_owned();
    let mut att_subject = attestation.clone();
    att_subject.as_object_mut().unwrap().remove("artifactType");
    add_referrer(
        &src,
        &att_subject,
        "application/vnd.example.note",
        b"reviewed",
    );

    // oci: -> docker-registry, signed on the way in the OCI 1.1 referrer form.
    let first = format!("docker://{a1}/app/img:1");
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--referrers",
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key",
            d.join("key.private").to_str().unwrap(),
            "--sign-passphrase-file",
            pass.to_str().unwrap(),
            "--registry-referrers-mode",
            "oci-1-1",
            &format!("oci:{src_s}:img"),
            &first,
        ],
    );
    let fallback = |repo: &str, subject: &str| {
        skopeo_raw(&format!("docker://{a1}/{repo}:sha256-{}", &subject[7..]))
    };
    let sig_type = "application/vnd.dev.cosign.artifact.sig.v1+json";
    assert_eq!(
        artifact_types(&fallback("app/img", &digest)),
        [sig_type, IN_TOTO]
    );
    assert_eq!(
        artifact_types(&fallback("app/img", &att_digest)),
        ["application/vnd.example.note"]
    );

    // docker-registry -> referrers-API registry, into a mirror with another name.
    let mirror = format!("docker://{a2}/mirror/other:1");
    let tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    let mut args = vec!["copy", "-q", "--referrers", "--insecure-policy"];
    args.extend(tls);
    ok("ferry", &root, &[&args[..], &[&first, &mirror]].concat());
    assert_eq!(r2.recorded("mirror/other", &digest), 2);
    assert_eq!(r2.recorded("mirror/other", &att_digest), 1);
    // The API registry indexed them itself: no fallback tag was written there.
    let tags = Command::new("skopeo")
        .args(["list-tags", "--tls-verify=false"])
        .arg(format!("docker://{a2}/mirror/other"))
        .output()
        .unwrap();
    assert!(
        !text(&tags.stdout).contains("sha256-"),
        "{}",
        text(&tags.stdout)
    );

    // referrers API -> oci: -> docker-registry.
    let out = d.join("out");
    let out_s = format!("oci:{}:img", out.display());
    ok("ferry", &root, &[&args[..], &[&mirror, &out_s]].concat());
    assert_eq!(referrer_entries(&out).len(), 3);
    let last = format!("docker://{a1}/final/img:1");
    ok("ferry", &root, &[&args[..], &[&out_s, &last]].concat());
    assert_eq!(
        artifact_types(&fallback("final/img", &digest)),
        [sig_type, IN_TOTO]
    );
    // A copy without --referrers leaves them behind.
    let bare = format!("docker://{a1}/bare/img:1");
    ok(
        "ferry",
        &root,
        &[
            &["copy", "-q", "--insecure-policy"],
            &tls[..],
            &[&last, &bare],
        ]
        .concat(),
    );

    // The signature made for app/img still verifies at final/img; bare/img is refused.
    let policy = d.join("policy.json");
    let requirement = json!([{
        "type": "sigstoreSigned",
        "keyPath": d.join("key.pub"),
        "signedIdentity": {"type": "exactRepository", "dockerRepository": format!("{a1}/app/img")}
    }]);
    std::fs::write(
        &policy,
        json!({
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {format!("{a1}/final"): requirement, format!("{a1}/bare"): requirement}}
        })
        .to_string(),
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let checked = format!("oci:{}:img", d.join("checked").display());
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--policy",
            p,
            "--registries.d",
            regd_s,
            "--src-tls-verify=false",
            &last,
            &checked,
        ],
    );
    let refused = run(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--policy",
            p,
            "--registries.d",
            regd_s,
            "--src-tls-verify=false",
            &bare,
            &checked,
        ],
    );
    let err = text(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("sigstoreSigned"),
        "{err}"
    );

    // A copy that would change the digest cannot keep referrers: refused, naming the flag,
    // before anything is written.
    let conv = format!("docker://{a1}/conv/img:1");
    let out = run(
        "ferry",
        &root,
        &[&args[..], &["--format", "v2s2", &last, &conv]].concat(),
    );
    let err = text(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--format v2s2") && err.contains("--referrers"),
        "{err}"
    );
    let gone = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &conv])
        .output()
        .unwrap();
    assert!(!gone.status.success());
}

/// A registry whose referrers answers are hostile: not JSON, 10,000 entries, an entry naming
/// another subject, a loop back to the image; and an `oci:` layout whose referrer manifest does
/// not match its digest. Each ends with a clear error (or, for the loop, bounded work) and no
/// unverified referrer stored.
#[test]
fn hostile_referrers_lists_are_refused() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = ReferrersRegistry::start() else {
        return;
    };
    let a = reg.addr();
    let d = tmp.path();
    let src = d.join("src");
    let (src_s, image) = busybox_layout(&root, &src);
    let digest = image["digest"].as_str().unwrap().to_owned();
    let note = add_referrer(&src, &image, "application/vnd.example.note", b"one");
    let mut note_subject = note.clone();
    note_subject.as_object_mut().unwrap().remove("artifactType");
    let reply = add_referrer(&src, &note_subject, "application/vnd.example.note", b"two");
    let img = format!("docker://{a}/h/img:1");
    let copy = |args: &[&str]| {
        run(
            "ferry",
            &root,
            &[
                &[
                    "copy",
                    "-q",
                    "--insecure-policy",
                    "--src-tls-verify=false",
                    "--dest-tls-verify=false",
                ][..],
                args,
            ]
            .concat(),
        )
    };
    let o = copy(&["--referrers", &src_s, &img]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let case = |what: &str, body: Vec<u8>, expect: &str| {
        reg.serve_raw("h/img", &digest, body);
        let dir = d.join(format!("case-{what}"));
        let o = copy(&["--referrers", &img, &format!("oci:{}:img", dir.display())]);
        let err = text(&o.stderr);
        assert!(!o.status.success() && err.contains(expect), "{what}: {err}");
        assert!(referrer_entries(&dir).is_empty(), "{what}");
    };
    case(
        "not-json",
        b"<html>oops</html>".to_vec(),
        "not an OCI image index",
    );
    let many: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": wharf_oci::digest::sha256(format!("{i}").as_bytes()).to_string(),
                   "size": 10, "artifactType": "x/y"})
        })
        .collect();
    case(
        "many",
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": many})).unwrap(),
        "more than 1000 referrers",
    );
    // The note's own referrer listed as the image's: it names another subject.
    let note_digest = note["digest"].as_str().unwrap().to_owned();
    case(
        "lying",
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [reply]})).unwrap(),
        &format!("names subject {note_digest}"),
    );

    // A loop: the note's referrers list the image again. Already copied: skipped, bounded.
    reg.serve_raw(
        "h/img",
        &digest,
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [note]})).unwrap(),
    );
    let mut back = image.clone();
    back["artifactType"] = "x/y".into();
    reg.serve_raw(
        "h/img",
        &note_digest,
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [back]})).unwrap(),
    );
    let dir = d.join("loop");
    let o = copy(&["--referrers", &img, &format!("oci:{}:img", dir.display())]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(referrer_entries(&dir).len(), 1);

    // A layout whose referrer blob does not match its digest.
    let blob = src.join("blobs/sha256").join(&note_digest[7..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.push(b' ');
    std::fs::write(&blob, bytes).unwrap();
    let o = copy(&["--referrers", &src_s, &format!("docker://{a}/h/tampered:1")]);
    let err = text(&o.stderr);
    assert!(!o.status.success() && err.contains("digest"), "{err}");
    assert_eq!(reg.recorded("h/tampered", &digest), 0);
}

/// `kiln push` pushes the referrers stored with an image (as BuildKit pushes its
/// attestations); `--referrers=false` leaves them behind. `ferry sync --referrers` (and a YAML
/// source's `referrers: true`) carries them on, skipping the source's fallback tags.
#[test]
fn kiln_push_and_ferry_sync_carry_stored_referrers() {
    if !have("skopeo") {
        return;
    }
    let Some((_tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    // A referrer stored as the store's convention says (what `kiln build --sbom` writes).
    let oci = root.join("oci");
    let image = image_entry(&oci, "localhost/busybox:latest");
    let digest = image["digest"].as_str().unwrap().to_owned();
    add_referrer(
        &oci,
        &image,
        IN_TOTO,
        br#"{"_type":"https://in-toto.io/Statement/v1"}"#,
    );
    ok(
        "kiln",
        &root,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            "busybox",
            &format!("{a}/app/img:1"),
        ],
    );
    let tag = format!("docker://{a}/app/img:sha256-{}", &digest[7..]);
    assert_eq!(artifact_types(&skopeo_raw(&tag)), [IN_TOTO]);
    ok(
        "kiln",
        &root,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            "--referrers=false",
            "busybox",
            &format!("{a}/bare/img:1"),
        ],
    );
    let none = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{a}/bare/img:sha256-{}", &digest[7..]))
        .output()
        .unwrap();
    assert!(!none.status.success());

    // ferry sync carries them too: `--referrers`, and `referrers: true` in a YAML source.
    let tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    let sync = [
        "sync",
        "--insecure-policy",
        "-s",
        "docker",
        "-d",
        "docker",
        "--referrers",
    ];
    let src = format!("{a}/app/img");
    ok(
        "ferry",
        &root,
        &[&sync[..], &tls, &[&src, &format!("{a}/cli")]].concat(),
    );
    let yaml = root.join("../sync.yaml");
    std::fs::write(
        &yaml,
        format!("{a}:\n  images:\n    app/img: [\"1\"]\n  tls-verify: false\n  referrers: true\n"),
    )
    .unwrap();
    ok(
        "ferry",
        &root,
        &[
            "sync",
            "--insecure-policy",
            "-s",
            "yaml",
            "-d",
            "docker",
            "--dest-tls-verify=false",
            yaml.to_str().unwrap(),
            &format!("{a}/yaml"),
        ],
    );
    for repo in ["cli/img", "yaml/img"] {
        let tag = format!("docker://{a}/{repo}:sha256-{}", &digest[7..]);
        assert_eq!(artifact_types(&skopeo_raw(&tag)), [IN_TOTO], "{repo}");
    }
}

/// `ferry copy --all` keeps BuildKit's attestation manifests (platform unknown/unknown,
/// `vnd.docker.reference.type: attestation-manifest`) inside an index, digests unchanged,
/// registry and layout both ways. The index is built by hand as BuildKit lays it out.
#[test]
fn copy_all_keeps_attestation_manifests_in_an_index() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let d = tmp.path();
    let src = d.join("src");
    let src_s = src.to_str().unwrap();
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "store:localhost/busybox:latest",
            &format!("oci:{src_s}:img"),
        ],
    );
    let mut image = image_entry(&src, "img");
    let host = wharf_oci::Platform::host();
    image["platform"] = json!({"os": host.os, "architecture": host.architecture});
    let digest = image["digest"].as_str().unwrap().to_owned();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:docker/app", "digest": {"sha256": &digest[7..]}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    });
    let mut layer = put_blob(&src, IN_TOTO, &serde_json::to_vec(&statement).unwrap());
    layer["annotations"] = json!({"in-toto.io/predicate-type": "https://slsa.dev/provenance/v1"});
    let config = json!({
        "architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
    });
    let config = put_blob(
        &src,
        "application/vnd.oci.image.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
    );
    let att = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    });
    let mut att = put_blob(
        &src,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&att).unwrap(),
    );
    att["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    att["annotations"] = json!({
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": digest,
    });
    let idx = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [image, att],
    });
    let mut top = put_blob(
        &src,
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&idx).unwrap(),
    );
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "idx"});
    let mut layout = index(&src);
    layout["manifests"]
        .as_array_mut()
        .unwrap()
        .push(top.clone());
    std::fs::write(src.join("index.json"), serde_json::to_vec(&layout).unwrap()).unwrap();

    let dst = format!("docker://{a}/app/idx:1");
    let flags = ["copy", "-q", "--all", "--insecure-policy"];
    let tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    ok(
        "ferry",
        &root,
        &[&flags[..], &tls, &[&format!("oci:{src_s}:idx"), &dst]].concat(),
    );
    let out = d.join("out");
    let out_s = format!("oci:{}:idx", out.display());
    ok(
        "ferry",
        &root,
        &[&flags[..], &tls, &[&dst, &out_s]].concat(),
    );
    let back = image_entry(&out, "idx");
    assert_eq!(back["digest"], top["digest"], "the index was rewritten");
    let copied: Value = serde_json::from_slice(
        &std::fs::read(
            out.join("blobs/sha256")
                .join(&back["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(copied["manifests"].as_array().unwrap().len(), 2);
    for m in copied["manifests"].as_array().unwrap() {
        let blob = out
            .join("blobs/sha256")
            .join(&m["digest"].as_str().unwrap()[7..]);
        assert!(blob.exists(), "{m}");
    }
    assert!(
        out.join("blobs/sha256")
            .join(&statement_digest(&statement)[7..])
            .exists()
    );
}

fn statement_digest(statement: &Value) -> String {
    wharf_oci::digest::sha256(&serde_json::to_vec(statement).unwrap()).to_string()
}

/// The README recipe "Build, attach SBOM and provenance, sign, push, verify on pull", as
/// written (plus `--tls-verify=false`, `--policy` and `--registries.d` for the local setup):
/// the registry is Debian's `docker-registry` (tag fallback), the mirror serves the referrers
/// API. On the mirror, `berth run` passes a policy whose identity names the original
/// repository, and `ferry inspect --attestations docker://…` prints the SBOM and the
/// provenance; a copy into the store keeps them (`ferry inspect --attestations store:…`).
#[test]
fn readme_recipe_build_attest_sign_push_mirror_verify() {
    assert!(
        have("skopeo"),
        "skopeo is not installed: apt-get install skopeo"
    );
    let (tmp, root) = busybox_store().expect("busybox-static: apt-get install busybox-static");
    let reg = Registry::start_plain().expect("docker-registry: apt-get install docker-registry");
    let mirror = ReferrersRegistry::start().expect("the testkit's referrers registry");
    let (reg_addr, mirror_addr) = (reg.addr(), mirror.addr());
    let d = tmp.path();
    let pass = d.join("pass");
    std::fs::write(&pass, "ci secret\n").unwrap();
    let prefix = d.join("ci");
    crate::signatures::sigstore_key(&root, &prefix, &pass);
    let regd = crate::signatures::sigstore_registries_d(d);
    let policy = d.join("policy.json");
    std::fs::write(
        &policy,
        json!({
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {
                format!("{mirror_addr}/team"): [{
                    "type": "sigstoreSigned",
                    "keyPath": d.join("ci.pub"),
                    "signedIdentity": {
                        "type": "exactRepository",
                        "dockerRepository": format!("{reg_addr}/app")
                    }
                }]
            }}
        })
        .to_string(),
    )
    .unwrap();
    let ctx = d.join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nCOPY hello.txt /srv/hello.txt\n",
    )
    .unwrap();
    let (policy_s, regd_s) = (policy.display().to_string(), regd.display().to_string());
    let pol = [
        "--policy",
        policy_s.as_str(),
        "--registries.d",
        regd_s.as_str(),
    ];

    // kiln build --sbom --provenance=max -t app .
    ok(
        "kiln",
        &root,
        &[
            "build",
            "-q",
            "--sbom",
            "--provenance=max",
            "-t",
            "app",
            ctx.to_str().unwrap(),
        ],
    );
    // kiln push --sign-by-sigstore-private-key ci.private --sign-passphrase-file pass \
    //     --registry-referrers-mode=oci-1-1 app registry.example/app:1
    let key = d.join("ci.private").display().to_string();
    let pass_s = pass.display().to_string();
    let src = format!("{reg_addr}/app:1");
    ok(
        "kiln",
        &root,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            "--registries.d",
            &regd_s,
            "--sign-by-sigstore-private-key",
            &key,
            "--sign-passphrase-file",
            &pass_s,
            "--registry-referrers-mode=oci-1-1",
            "app",
            &src,
        ],
    );
    // ferry copy --referrers docker://registry.example/app:1 docker://mirror.example/team/app:1
    let dst = format!("{mirror_addr}/team/app:1");
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--referrers",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--policy",
            &policy_s,
            "--registries.d",
            &regd_s,
            &format!("docker://{src}"),
            &format!("docker://{dst}"),
        ],
    );
    // berth run mirror.example/team/app:1: the signature verifies for the original name.
    let puller = d.join("puller");
    let out = ok(
        "berth",
        &puller,
        &[
            &["run", "--rm", "--tls-verify=false"][..],
            &pol[..],
            &[dst.as_str(), "cat", "/srv/hello.txt"],
        ]
        .concat(),
    );
    assert_eq!(out, "hello\n");
    // The same image copied without its referrers is refused by the same policy (another
    // repository: referrers follow the digest within a repository, whatever the tag).
    let bare = format!("{mirror_addr}/team/bare:1");
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{src}"),
            &format!("docker://{bare}"),
        ],
    );
    let out = run(
        "berth",
        &d.join("refused"),
        &[
            &["pull", "--tls-verify=false"][..],
            &pol[..],
            &[bare.as_str()],
        ]
        .concat(),
    );
    assert!(!out.status.success(), "an unsigned copy was accepted");
    assert!(
        text(&out.stderr).contains("sigstoreSigned"),
        "{}",
        text(&out.stderr)
    );

    // ferry inspect --attestations docker://mirror.example/team/app:1
    let predicates = |out: &str| -> Vec<String> {
        let doc: Value = serde_json::from_str(out).unwrap();
        let mut types: Vec<String> = doc
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["predicateType"].as_str().unwrap().to_owned())
            .collect();
        types.sort();
        types
    };
    let want = [
        "https://slsa.dev/provenance/v1",
        "https://spdx.dev/Document",
    ];
    let out = ok(
        "ferry",
        &root,
        &[
            "inspect",
            "--attestations",
            "--tls-verify=false",
            &format!("docker://{dst}"),
        ],
    );
    assert_eq!(predicates(&out), want, "{out}");
    // The registry side (tag fallback) lists them too.
    let out = ok(
        "ferry",
        &root,
        &[
            "inspect",
            "--attestations",
            "--tls-verify=false",
            &format!("docker://{src}"),
        ],
    );
    assert_eq!(predicates(&out), want, "{out}");

    // Into the store: ferry copy --referrers docker://… store:… and kiln pull --referrers
    // keep them, signature included.
    let kept = d.join("kept");
    ok(
        "ferry",
        &kept,
        &[
            "copy",
            "-q",
            "--referrers",
            "--src-tls-verify=false",
            "--policy",
            &policy_s,
            "--registries.d",
            &regd_s,
            &format!("docker://{dst}"),
            "store:mirrored",
        ],
    );
    let out = ok(
        "ferry",
        &kept,
        &["inspect", "--attestations", "store:localhost/mirrored"],
    );
    assert_eq!(predicates(&out), want, "{out}");
    let pulled = d.join("pulled");
    ok(
        "kiln",
        &pulled,
        &[
            &["pull", "-q", "--referrers", "--tls-verify=false"][..],
            &pol[..],
            &[dst.as_str()],
        ]
        .concat(),
    );
    let index = std::fs::read_to_string(pulled.join("oci/index.json")).unwrap();
    assert!(
        index.contains("application/vnd.dev.cosign.artifact.sig.v1+json"),
        "the signature was not kept: {index}"
    );
    assert!(
        index.contains(IN_TOTO),
        "the attestations were not kept: {index}"
    );
}

/// `oci-archive:` holds referrers as `oci:` does (it is an OCI layout in a tar): a copy with
/// `--referrers` into an archive keeps them listed in its index.json, and a copy out of it
/// carries them on. `dir:` keeps refusing, saying why (skopeo's dir: has no referrers).
#[test]
fn oci_archive_keeps_referrers_and_dir_says_why_not() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let d = tmp.path();
    let src = d.join("src");
    let src_s = format!("oci:{}:img", src.display());
    let copy = |args: &[&str]| {
        run(
            "ferry",
            &root,
            &[
                &["copy", "-q", "--insecure-policy", "--referrers"][..],
                args,
            ]
            .concat(),
        )
    };
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "store:localhost/busybox:latest",
            &src_s,
        ],
    );
    let image = image_entry(&src, "img");
    let note = add_referrer(&src, &image, "application/vnd.example.note", b"one");
    let archive = d.join("img.tar");
    let archive_s = format!("oci-archive:{}:img", archive.display());
    let o = copy(&[&src_s, &archive_s]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let unpacked = d.join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let t = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", text(&t.stderr));
    let listed: Vec<Value> = referrer_entries(&unpacked);
    assert_eq!(listed.len(), 1, "{:?}", index(&unpacked));
    assert_eq!(listed[0]["digest"], note["digest"]);
    assert!(
        unpacked
            .join("blobs/sha256")
            .join(&note["digest"].as_str().unwrap()[7..])
            .exists()
    );
    // Out of the archive, the referrer comes along.
    let back = d.join("back");
    let o = copy(&[&archive_s, &format!("oci:{}:img", back.display())]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(referrer_entries(&back).len(), 1);

    let o = copy(&[&src_s, &format!("dir:{}", d.join("dir").display())]);
    let err = text(&o.stderr);
    assert!(
        !o.status.success() && err.contains("no referrers concept"),
        "{err}"
    );
}

/// A referrer that fails after others of the same subject were written: the error names the
/// subject, the one that failed and exactly those attached; a rerun (once the cause is fixed)
/// attaches the rest.
#[test]
fn a_failed_referrer_copy_says_what_is_attached_and_a_rerun_completes_it() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = ReferrersRegistry::start() else {
        return;
    };
    let a = reg.addr();
    let d = tmp.path();
    let src = d.join("src");
    let (src_s, image) = busybox_layout(&root, &src);
    let digest = image["digest"].as_str().unwrap().to_owned();
    let first = add_referrer(&src, &image, "application/vnd.example.note", b"first");
    let second = add_referrer(&src, &image, "application/vnd.example.note", b"second");
    // The second referrer's layer goes missing: its manifest still names the image.
    let second_manifest: Value = serde_json::from_slice(
        &std::fs::read(
            src.join("blobs/sha256")
                .join(&second["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = src
        .join("blobs/sha256")
        .join(&second_manifest["layers"][0]["digest"].as_str().unwrap()[7..]);
    let saved = std::fs::read(&layer).unwrap();
    std::fs::remove_file(&layer).unwrap();
    let dst = format!("docker://{a}/partial/img:1");
    let copy = || {
        run(
            "ferry",
            &root,
            &[
                "copy",
                "-q",
                "--insecure-policy",
                "--dest-tls-verify=false",
                "--referrers",
                &src_s,
                &dst,
            ],
        )
    };
    let o = copy();
    let err = text(&o.stderr);
    assert!(!o.status.success(), "a missing referrer blob was accepted");
    for want in [
        digest.as_str(),
        second["digest"].as_str().unwrap(),
        first["digest"].as_str().unwrap(),
        "1 were attached",
        "rerun",
    ] {
        assert!(
            err.contains(want),
            "the error does not name {want:?}:\n{err}"
        );
    }
    assert_eq!(reg.recorded("partial/img", &digest), 1);
    std::fs::write(&layer, saved).unwrap();
    let o = copy();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(reg.recorded("partial/img", &digest), 2);
}
