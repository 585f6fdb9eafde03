//! Integration tests of wharf-transport against a real registry, real files and skopeo.
#![allow(clippy::unwrap_used, clippy::print_stderr)]
// Short names (client, tmp, addr) keep the transport strings readable.
#![allow(clippy::many_single_char_names, clippy::result_large_err)]

mod compress;
mod errors;
mod interop;
mod multiarch;
mod roundtrip;
mod sync;
mod unpack;

use std::path::Path;

use wharf_registry::{ClientOptions, ConfigPaths, RetryPolicy};
use wharf_store::Store;
use wharf_transport::{CopyOptions, CopyReport, Destination, ImageRef, Source, TransportError};

pub const BASE: &str = "localhost/busybox:latest";

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A store holding busybox as [`BASE`], or `None` after `SKIP:`.
pub fn base_store() -> Option<(tempfile::TempDir, Store)> {
    if !wharf_testkit::busybox::available() {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let config = wharf_oci::config::ContainerConfig {
        cmd: Some(vec!["sh".into()]),
        labels: Some([("org.example".to_owned(), "wharf".to_owned())].into()),
        ..Default::default()
    };
    image_from_busybox(
        &store,
        &tmp.path().join("rootfs"),
        BASE,
        "2024-01-02T03:04:05Z",
        config,
    );
    Some((tmp, store))
}

/// Commits the busybox root filesystem, made in `dir`, as a one-layer image `name`: the test
/// input, written with the lower crates only (wharf-transport does not depend on the build
/// crate that owns `import`).
pub fn image_from_busybox(
    store: &Store,
    dir: &Path,
    name: &str,
    created: &str,
    config: wharf_oci::config::ContainerConfig,
) {
    use wharf_oci::{ImageConfig, MediaType, Platform, media_type};
    std::fs::create_dir_all(dir).unwrap();
    wharf_testkit::busybox::make_rootfs(dir).unwrap();
    let mut blob = store.blob_writer(None).unwrap();
    let opts = wharf_archive::WriteOptions {
        source: wharf_archive::LayerSource::Plain,
        ..wharf_archive::WriteOptions::default()
    };
    let layer = wharf_archive::write_layer(dir, &mut blob, &opts).unwrap();
    blob.commit().unwrap();
    let host = Platform::host();
    let image = ImageConfig {
        created: Some(created.to_owned()),
        architecture: host.architecture,
        os: host.os,
        variant: host.variant,
        config: Some(config),
        rootfs: wharf_oci::config::RootFs {
            diff_ids: vec![layer.diff_id.clone()],
            ..Default::default()
        },
        ..ImageConfig::default()
    };
    let config_desc = store
        .put_blob_bytes(media_type::OCI_CONFIG, &image.to_vec().unwrap())
        .unwrap();
    let manifest = wharf_oci::oci_spec::image::ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config_desc)
        .layers(vec![wharf_oci::Descriptor::new(
            MediaType::from(media_type::OCI_LAYER_GZIP),
            layer.size,
            layer.digest,
        )])
        .build()
        .unwrap();
    let bytes = wharf_oci::manifest::to_bytes(&manifest).unwrap();
    store
        .commit_image(&bytes, media_type::OCI_MANIFEST, &[name.to_owned()])
        .unwrap();
}

/// Client options isolated from the machine's auth files and registries.conf.
pub fn client(dir: &Path) -> ClientOptions {
    ClientOptions {
        paths: ConfigPaths::isolated(dir),
        tls_verify: Some(false),
        retry: RetryPolicy::none(),
        ..ClientOptions::default()
    }
}

pub fn quick() -> CopyOptions {
    CopyOptions {
        retry_times: 0,
        ..CopyOptions::default()
    }
}

/// Copies `src` to `dst` (references in transport syntax).
pub fn try_copy(
    store: &Store,
    c: &ClientOptions,
    src: &str,
    dst: &str,
    opts: &CopyOptions,
) -> Result<CopyReport, TransportError> {
    rt().block_on(async {
        let s = Source::open(&ImageRef::parse(src)?, c, Some(store))?;
        let d = Destination::open(&ImageRef::parse(dst)?, c, Some(store))?;
        wharf_transport::copy(&s, &d, opts).await
    })
}

pub fn copy(
    store: &Store,
    c: &ClientOptions,
    src: &str,
    dst: &str,
    opts: &CopyOptions,
) -> CopyReport {
    try_copy(store, c, src, dst, opts).unwrap_or_else(|e| panic!("copy {src} -> {dst}: {e}"))
}

/// The top-level manifest of `r`.
pub fn manifest(store: &Store, c: &ClientOptions, r: &str) -> wharf_oci::RawManifest {
    rt().block_on(async {
        let s = Source::open(&ImageRef::parse(r).unwrap(), c, Some(store)).unwrap();
        s.manifest().await.unwrap()
    })
}

/// Whether `tool` is on PATH (prints `SKIP:` when not).
pub fn have(tool: &str) -> bool {
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: {tool} is not installed");
    }
    ok
}
