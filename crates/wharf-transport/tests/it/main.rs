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
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let opts = wharf_cli::import::ImportOptions {
        changes: vec!["CMD [\"sh\"]".into(), "LABEL org.example=wharf".into()],
        message: None,
        created: Some("2024-01-02T03:04:05Z".into()),
    };
    wharf_cli::import::import(
        &store,
        std::fs::File::open(tar).unwrap(),
        &[BASE.to_owned()],
        &opts,
    )
    .unwrap();
    Some((tmp, store))
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
