//! Against the real registry: plain HTTP, and TLS with htpasswd basic auth.

use bytes::Bytes;
use wharf_oci::digest::sha256;
use wharf_oci::media_type;
use wharf_registry::{Credentials, RegistryClient, RegistryError, UploadOptions, auth_file};
use wharf_testkit::registry::Registry;

use crate::{bytes, isolated_opts};

fn plain_client(reg: &Registry, dir: &std::path::Path) -> RegistryClient {
    let mut opts = isolated_opts(dir);
    opts.tls_verify = Some(false);
    RegistryClient::new(reg.addr(), &opts).unwrap()
}

#[tokio::test]
async fn ping_plain_needs_tls_verify_false() {
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = plain_client(&reg, dir.path());
    let p = c.ping().await.unwrap();
    assert_eq!(p.api_version.as_deref(), Some("registry/2.0"));
    assert_eq!(p.base.scheme(), "http");
    assert!(p.challenge.is_none());
    // Without --tls-verify=false or an insecure registries.conf entry, plain HTTP is refused.
    let strict = RegistryClient::new(reg.addr(), &isolated_opts(dir.path())).unwrap();
    let e = strict.ping().await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Tls {
                plain_http: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("--tls-verify=false"), "{e}");
    // An insecure entry in registries.conf allows it.
    let conf = wharf_registry::RegistriesConf::parse(
        std::path::Path::new("r.conf"),
        &format!(
            "[[registry]]\nlocation = \"{}\"\ninsecure = true\n",
            reg.addr()
        ),
    )
    .unwrap();
    let mut opts = isolated_opts(dir.path());
    opts.registries = Some(std::sync::Arc::new(conf));
    let c = RegistryClient::new(reg.addr(), &opts).unwrap();
    assert_eq!(c.ping().await.unwrap().base.scheme(), "http");
}

#[tokio::test]
async fn tls_auth_accepts_right_credentials_and_refuses_the_rest() {
    let Some(reg) = Registry::start_tls_auth("alice", "s3cret") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut opts = isolated_opts(dir.path());
    opts.cert_dir = reg.cert_dir();
    opts.creds = Some(Credentials::new("alice", "s3cret"));
    let c = RegistryClient::new(reg.addr(), &opts).unwrap();
    let p = c.ping().await.unwrap();
    assert_eq!(p.base.scheme(), "https");
    assert_eq!(p.challenge.as_ref().unwrap().scheme, "basic");
    let data = Bytes::from_static(b"hello over tls");
    let pushed = c
        .push_blob("team/app", &mut &data[..], &UploadOptions::default())
        .await
        .unwrap();
    assert_eq!(pushed.digest, sha256(&data));
    assert_eq!(
        c.blob_exists("team/app", &pushed.digest).await.unwrap(),
        Some(data.len() as u64)
    );

    // Wrong password.
    opts.creds = Some(Credentials::new("alice", "wrong"));
    let bad = RegistryClient::new(reg.addr(), &opts).unwrap();
    let e = bad
        .blob_exists("team/app", &pushed.digest)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unauthorized {
                had_credentials: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("refused the credentials"), "{e}");

    // No credentials anywhere (the paths are isolated).
    opts.creds = None;
    let anon = RegistryClient::new(reg.addr(), &opts).unwrap();
    let e = anon
        .blob_exists("team/app", &pushed.digest)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unauthorized {
                had_credentials: false,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("requires credentials"), "{e}");

    // Credentials from an auth file written by `login`, scoped to the namespace.
    let authfile = dir.path().join("auth.json");
    auth_file::login(
        &authfile,
        &format!("{}/team", reg.addr()),
        &Credentials::new("alice", "s3cret"),
    )
    .unwrap();
    opts.authfile = Some(authfile);
    let from_file = RegistryClient::new(reg.addr(), &opts).unwrap();
    assert!(
        from_file
            .blob_exists("team/app", &pushed.digest)
            .await
            .unwrap()
            .is_some()
    );
    let e = from_file
        .blob_exists("other/app", &pushed.digest)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unauthorized {
                had_credentials: false,
                ..
            }
        ),
        "{e}"
    );

    // A CA we do not know: no cert dir, nothing in the isolated certs.d.
    let mut opts = isolated_opts(dir.path());
    opts.creds = Some(Credentials::new("alice", "s3cret"));
    let untrusted = RegistryClient::new(reg.addr(), &opts).unwrap();
    let e = untrusted.ping().await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Tls {
                plain_http: false,
                ..
            }
        ),
        "{e}"
    );
    // The problem and the directories looked at, and not the plain-HTTP hint.
    let msg = e.to_string();
    assert!(
        msg.contains("not signed by a trusted CA") && msg.contains("certs.d/127.0.0.1:"),
        "{msg}"
    );
    assert!(!msg.contains("--tls-verify=false"), "{msg}");
    // The same CA found through the per-host certs.d lookup.
    let certs_d = dir.path().join("etc/containers/certs.d").join(reg.addr());
    std::fs::create_dir_all(&certs_d).unwrap();
    std::fs::copy(reg.ca_cert().unwrap(), certs_d.join("ca.crt")).unwrap();
    let trusted = RegistryClient::new(reg.addr(), &opts).unwrap();
    assert_eq!(trusted.ping().await.unwrap().base.scheme(), "https");
}

#[tokio::test]
async fn blobs_push_monolithic_and_chunked_head_get_mount_and_missing() {
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = plain_client(&reg, dir.path());

    // Monolithic, digest and size known.
    let a = bytes(300_000, 1);
    let da = sha256(&a);
    let opts = UploadOptions {
        digest: Some(da.clone()),
        size: Some(a.len() as u64),
        chunk_size: None,
        source_verified: false,
    };
    let p = c.push_blob("src/app", &mut &a[..], &opts).await.unwrap();
    assert_eq!((p.digest.clone(), p.size), (da.clone(), a.len() as u64));
    assert_eq!(c.blob_exists("src/app", &da).await.unwrap(), Some(300_000));

    // Chunked with a known size (Content-Range chunks) ...
    let b = bytes(250_001, 2);
    let db = sha256(&b);
    let opts = UploadOptions {
        digest: Some(db.clone()),
        size: Some(b.len() as u64),
        chunk_size: Some(100_000),
        source_verified: false,
    };
    assert_eq!(
        c.push_blob("src/app", &mut &b[..], &opts)
            .await
            .unwrap()
            .digest,
        db
    );
    // ... and streamed without size or digest: the digest is computed on the way.
    let d = bytes(123_457, 3);
    let opts = UploadOptions {
        chunk_size: Some(50_000),
        ..UploadOptions::default()
    };
    let p = c.push_blob("src/app", &mut &d[..], &opts).await.unwrap();
    assert_eq!((p.digest, p.size), (sha256(&d), d.len() as u64));

    // Download with verification, as chunks and through AsyncRead.
    let mut out = Vec::new();
    let n = c
        .get_blob("src/app", &db, Some(b.len() as u64))
        .await
        .unwrap()
        .copy_to(&mut out)
        .await
        .unwrap();
    assert_eq!(n, b.len() as u64);
    assert!(out == b);
    let mut r = c
        .get_blob("src/app", &da, None)
        .await
        .unwrap()
        .into_async_read();
    let mut out = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut r, &mut out)
        .await
        .unwrap();
    assert!(out == a);

    // Cross-repository mount.
    assert_eq!(c.blob_exists("dst/app", &da).await.unwrap(), None);
    assert!(c.mount_blob("dst/app", &da, "src/app").await.unwrap());
    assert_eq!(c.blob_exists("dst/app", &da).await.unwrap(), Some(300_000));
    let missing = sha256(b"not pushed");
    assert!(!c.mount_blob("dst/app", &missing, "src/app").await.unwrap());

    // Missing blob.
    assert_eq!(c.blob_exists("src/app", &missing).await.unwrap(), None);
    let e = c.get_blob("src/app", &missing, None).await.unwrap_err();
    assert!(matches!(e, RegistryError::BlobUnknown { .. }), "{e}");
    assert!(e.to_string().contains(&missing.to_string()), "{e}");

    // Content that is not what its digest says is refused and not stored.
    let wrong = UploadOptions {
        digest: Some(missing.clone()),
        size: None,
        chunk_size: None,
        source_verified: false,
    };
    let e = c
        .push_blob("src/app", &mut &b"other bytes"[..], &wrong)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&missing.to_string()), "{e}");
    // A source that claims to verify itself but does not: the registry's own check refuses it,
    // so skipping our hash never lets wrong content in.
    let presumed = UploadOptions {
        digest: Some(missing.clone()),
        size: Some(11),
        chunk_size: None,
        source_verified: true,
    };
    let e = c
        .push_blob("src/app", &mut &b"other bytes"[..], &presumed)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestRefused { .. }), "{e}");
    assert!(e.to_string().contains(&missing.to_string()), "{e}");
    assert_eq!(c.blob_exists("src/app", &missing).await.unwrap(), None);
    let chunked_wrong = UploadOptions {
        chunk_size: Some(4),
        ..wrong
    };
    let e = c
        .push_blob("src/app", &mut &b"other bytes"[..], &chunked_wrong)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
    assert_eq!(c.blob_exists("src/app", &missing).await.unwrap(), None);
    // A source shorter than its declared size.
    let short = UploadOptions {
        digest: None,
        size: Some(100),
        chunk_size: Some(30),
        source_verified: false,
    };
    let e = c
        .push_blob("src/app", &mut &b"tiny"[..], &short)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::SourceSize { .. }), "{e}");
}

#[tokio::test]
async fn manifests_tags_pagination_delete_and_missing() {
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = plain_client(&reg, dir.path());
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = bytes(1000, 9);
    let cfg = c
        .push_blob("img/app", &mut &config[..], &UploadOptions::default())
        .await
        .unwrap();
    let lay = c
        .push_blob("img/app", &mut &layer[..], &UploadOptions::default())
        .await
        .unwrap();
    // Unusual but valid formatting: the bytes must come back exactly, never re-serialised.
    let manifest = format!(
        "{{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"{}\",\n  \"config\": {{\"mediaType\": \"{}\", \"digest\": \"{}\", \"size\": {}}},\n  \"layers\": [{{\"mediaType\": \"{}\", \"digest\": \"{}\", \"size\": {}}}]\n}}",
        media_type::OCI_MANIFEST,
        media_type::OCI_CONFIG,
        cfg.digest,
        cfg.size,
        media_type::OCI_LAYER_TAR,
        lay.digest,
        lay.size
    );
    let mbytes = Bytes::from(manifest);
    let digest = c
        .put_manifest("img/app", "v1", mbytes.clone(), media_type::OCI_MANIFEST)
        .await
        .unwrap();
    assert_eq!(digest, sha256(&mbytes));
    let by_tag = c.get_manifest("img/app", "v1").await.unwrap();
    assert_eq!(by_tag.bytes, mbytes);
    assert_eq!(by_tag.media_type, media_type::OCI_MANIFEST);
    assert_eq!(by_tag.digest, digest);
    let by_digest = c.get_manifest("img/app", digest.as_ref()).await.unwrap();
    assert_eq!(by_digest, by_tag);
    let head = c.head_manifest("img/app", "v1").await.unwrap().unwrap();
    assert_eq!(head.digest.as_ref(), Some(&digest));
    assert_eq!(head.size, Some(mbytes.len() as u64));

    for t in ["t1", "t2", "t3", "t4", "t5"] {
        c.put_manifest("img/app", t, mbytes.clone(), media_type::OCI_MANIFEST)
            .await
            .unwrap();
    }
    let mut all = c.list_tags("img/app", Some(2)).await.unwrap();
    all.sort();
    assert_eq!(all, ["t1", "t2", "t3", "t4", "t5", "v1"]);
    assert_eq!(c.list_tags("img/app", None).await.unwrap().len(), 6);
    let e = c.list_tags("no/such", None).await.unwrap_err();
    assert!(matches!(e, RegistryError::RepositoryUnknown { .. }), "{e}");

    // Missing tag.
    let e = c.get_manifest("img/app", "nope").await.unwrap_err();
    assert!(matches!(e, RegistryError::ManifestUnknown { .. }), "{e}");
    assert!(e.to_string().contains("nope"), "{e}");
    assert!(c.head_manifest("img/app", "nope").await.unwrap().is_none());

    // Delete by digest: every tag pointing at it goes.
    c.delete_manifest("img/app", &digest).await.unwrap();
    let e = c
        .get_manifest("img/app", digest.as_ref())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = c.delete_manifest("img/app", &digest).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Bad names never reach the wire.
    assert!(c.get_manifest("Img/App", "v1").await.is_err());
    assert!(c.get_manifest("img/app", "../x").await.is_err());
}
