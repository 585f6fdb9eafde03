//! The copy pipeline: blobs stream from source to destination in parallel (bounded), each
//! verified on the way; blobs the destination has are skipped, same-registry blobs mounted; the
//! manifest is written last, so a destination never names a blob it lacks.
//!
//! On a real network a blob costs round trips before any byte moves (the existence check, a
//! mount attempt, the upload session), and those cost the same for a 1 KiB blob as for a
//! 100 MiB one. So existence checks, mounts and blobs of at most `SMALL_BLOB` (1 MiB) run up to
//! `ROUND_TRIP_PARALLEL` (32) at once, and only the transfers of larger blobs, which compete for
//! bandwidth, CPU and memory, are bounded by [`CopyOptions::parallel`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::io::{AsyncRead, ReadBuf};
use wharf_archive::{Compressor, LayerCompression};
use wharf_oci::manifest::{convert_image_manifest, convert_index, to_bytes};
use wharf_oci::media_type::{self, ManifestKind};
use wharf_oci::platform::select_manifest;
use wharf_oci::{Descriptor, Digest, ImageConfig, ManifestFormat, Platform, RawManifest};

use crate::BlobStream;
use crate::counting::Counting;
use crate::dest::Destination;
use crate::error::{Result, TransportError};
use crate::recompress::{self, Recompressed};
use crate::source::Source;

/// Blobs up to this size transfer outside the [`CopyOptions::parallel`] bound: their cost is
/// round trips, not bytes.
pub(crate) const SMALL_BLOB: u64 = 1 << 20;
/// How many blobs are checked, mounted or (when small) transferred at once.
pub(crate) const ROUND_TRIP_PARALLEL: usize = 32;

/// Which part of an image a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    Config,
    Layer,
}

/// What the pipeline reports while it works (the CLI turns these into lines or bars).
#[derive(Debug, Clone)]
pub enum Event {
    BlobSkipped {
        digest: Digest,
        size: u64,
        kind: BlobKind,
    },
    BlobMounted {
        digest: Digest,
        size: u64,
        kind: BlobKind,
    },
    BlobStarted {
        digest: Digest,
        size: u64,
        kind: BlobKind,
    },
    /// Bytes of a started blob read from the source so far.
    BlobProgress {
        digest: Digest,
        done: u64,
    },
    BlobDone {
        digest: Digest,
        size: u64,
        kind: BlobKind,
    },
    BlobRetry {
        digest: Digest,
        attempt: u32,
        error: String,
    },
    ManifestWritten {
        digest: Digest,
    },
}

/// Receives the pipeline's [`Event`]s; called from the transfer tasks, so it must not block.
pub type Progress = Arc<dyn Fn(&Event) + Send + Sync>;

/// Options of [`copy`].
#[derive(Clone)]
pub struct CopyOptions {
    pub format: Option<ManifestFormat>,
    /// `--all`: copy every image of an index (and the index itself).
    pub all: bool,
    /// The image to pick from an index when not `all`; the host platform when `None`.
    pub platform: Option<Platform>,
    /// Transfers of blobs over 1 MiB in flight at once. Existence checks, mounts and smaller
    /// blobs, which cost round trips rather than bytes, run up to 32 at once (1 when this is 1).
    pub parallel: usize,
    /// Refuse any change of a manifest digest.
    pub preserve_digests: bool,
    /// Extra attempts per blob after a network failure.
    pub retry_times: u32,
    /// A fixed pause between attempts (`--retry-delay`); `None` doubles it each time.
    pub retry_delay: Option<Duration>,
    /// Recompress layers that are not already in this compression (`--dest-compress-format`).
    pub compress: Option<Compressor>,
    pub progress: Option<Progress>,
    /// The signature policy the source image must satisfy, checked before anything is
    /// written. `None` checks nothing: callers that bring images in (pull, copy, `FROM`) pass
    /// one (`--insecure-policy` is [`wharf_sign::PolicyContext::insecure`]).
    pub policy: Option<Arc<wharf_sign::PolicyContext>>,
    /// Sign the written manifest (`--sign-by-sigstore-private-key`).
    pub sign: Option<crate::signatures::SignOptions>,
    /// `--referrers`: also copy the image's referrers (signatures, SBOMs, attestations),
    /// recursively. Refused when the copy changes the image's digest.
    pub referrers: bool,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            format: None,
            all: false,
            platform: None,
            parallel: 6,
            preserve_digests: false,
            retry_times: 3,
            retry_delay: None,
            compress: None,
            progress: None,
            policy: None,
            sign: None,
            referrers: false,
        }
    }
}

impl std::fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOptions")
            .field("format", &self.format)
            .field("all", &self.all)
            .field("platform", &self.platform)
            .field("parallel", &self.parallel)
            .field("preserve_digests", &self.preserve_digests)
            .field("retry_times", &self.retry_times)
            .field("retry_delay", &self.retry_delay)
            .field("compress", &self.compress)
            .field("policy", &self.policy)
            .field("sign", &self.sign)
            .field("referrers", &self.referrers)
            .finish_non_exhaustive()
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// The digest of the top-level manifest (or index) written.
    pub manifest_digest: Option<Digest>,
    pub copied: usize,
    pub skipped: usize,
    pub mounted: usize,
    pub bytes: u64,
    /// Referrer manifests written (`--referrers`).
    pub referrers: usize,
}

impl CopyReport {
    /// Counts one blob's outcome (a recompressed one's new blob is counted by its caller).
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Copied(n) => {
                self.copied += 1;
                self.bytes += n;
            }
            Outcome::Recompressed(_, r) => {
                self.copied += 1;
                self.bytes += r.size;
            }
            Outcome::Skipped => self.skipped += 1,
            Outcome::Mounted => self.mounted += 1,
        }
    }
}

enum Outcome {
    Copied(u64),
    /// A layer recompressed: its source digest, and what it became.
    Recompressed(Digest, Recompressed),
    Skipped,
    Mounted,
}

/// Copies the image `src` names to `dst`.
pub async fn copy(src: &Source, dst: &Destination, opts: &CopyOptions) -> Result<CopyReport> {
    // A Docker image copied into an OCI layout is converted to OCI media types, as skopeo and
    // buildah do; asking for Docker manifests there is refused rather than written unreadable.
    let converted;
    let opts = match opts.format {
        Some(ManifestFormat::Docker) if dst.oci_only() => {
            return Err(TransportError::Unsupported {
                destination: dst.describe(),
                what: "Docker manifests in an OCI layout (it holds OCI manifests only: use \
                       --format oci, or a docker-archive: or dir: destination)"
                    .into(),
            });
        }
        None if dst.oci_only() => {
            converted = CopyOptions {
                format: Some(ManifestFormat::Oci),
                ..opts.clone()
            };
            &converted
        }
        _ => opts,
    };
    // A copy that writes the source manifest as it is (nothing converted, recompressed,
    // signed or added) is done already when the destination's tag names that very manifest:
    // a registry keeps the blobs of every manifest it holds, so there is nothing to check
    // blob by blob (crane skips such a push the same way). The destination is asked while the
    // source manifest is fetched.
    let as_is = opts.compress.is_none() && opts.sign.is_none() && !opts.referrers && !opts.all;
    let there = async {
        if as_is {
            dst.tagged_digest().await.ok().flatten()
        } else {
            dst.warm_up().await;
            None
        }
    };
    let (top, there) = tokio::join!(src.manifest(), there);
    let top = top?;
    if let Some(policy) = &opts.policy {
        crate::signatures::check_source(policy, src, &top).await?;
    }
    if let Some(image) = top.image()
        && as_is
        && there.as_ref() == Some(&top.digest)
        && target_docker(opts.format, top.kind) == is_docker(top.kind)
    {
        let report = CopyReport {
            skipped: 1 + image.layers().len(),
            manifest_digest: Some(top.digest.clone()),
            ..CopyReport::default()
        };
        emit(
            opts,
            &Event::ManifestWritten {
                digest: top.digest.clone(),
            },
        );
        return Ok(report);
    }
    if opts.referrers {
        crate::referrers::check_digest_kept(opts, &top, dst)?;
    }
    let mut report = CopyReport::default();
    let written = match top.index() {
        Some(index) if opts.all && dst.supports_index() => {
            let mut entries = Vec::with_capacity(index.manifests().len());
            let mut changed = false;
            for entry in index.manifests() {
                let child = src.child_manifest(entry).await?;
                if child.index().is_some() {
                    return Err(TransportError::Unsupported {
                        destination: dst.describe(),
                        what: "nested image indexes".into(),
                    });
                }
                let out = copy_image(src, dst, &child, opts, false, &mut report).await?;
                let mut e = entry.clone();
                if out.digest != child.digest {
                    changed = true;
                    e.set_digest(out.digest.clone());
                    e.set_size(out.bytes.len() as u64);
                    e.set_media_type(out.kind.media_type().into());
                }
                entries.push(e);
            }
            let want_docker = target_docker(opts.format, top.kind);
            let out = if changed || want_docker != is_docker(top.kind) {
                check_preserve(opts, "converting the index")?;
                let mut i = index.clone();
                i.set_manifests(entries);
                let i = convert_index(&i, want_docker);
                let mt = if want_docker {
                    ManifestKind::DockerManifestList
                } else {
                    ManifestKind::OciIndex
                };
                RawManifest::parse(to_bytes(&i)?, Some(mt.media_type()))?
            } else {
                top
            };
            dst.put_manifest(&out, true).await?;
            out
        }
        Some(index) => {
            let want = opts.platform.clone().unwrap_or_else(Platform::host);
            let entry = select_manifest(index.manifests(), &want).ok_or_else(|| {
                TransportError::NoPlatform {
                    platform: want.to_string(),
                    found: platforms(index.manifests()),
                }
            })?;
            let child = src.child_manifest(entry).await?;
            copy_image(src, dst, &child, opts, true, &mut report).await?
        }
        None => copy_image(src, dst, &top, opts, true, &mut report).await?,
    };
    emit(
        opts,
        &Event::ManifestWritten {
            digest: written.digest.clone(),
        },
    );
    if let Some(sign) = &opts.sign {
        crate::signatures::sign_destination(sign, dst, &written).await?;
    }
    if opts.referrers {
        // The image and, for an index, each of its images: signatures and attestations can
        // name any of them.
        let mut subjects = vec![written.digest.clone()];
        if let Some(i) = written.index() {
            subjects.extend(i.manifests().iter().map(|d| d.digest().clone()));
        }
        let mut r = CopyReport::default();
        report.referrers =
            crate::referrers::copy_referrers(src, dst, &subjects, opts, &mut r).await?;
        report.copied += r.copied;
        report.skipped += r.skipped;
        report.mounted += r.mounted;
        report.bytes += r.bytes;
    }
    report.manifest_digest = Some(written.digest);
    Ok(report)
}

fn platforms(entries: &[Descriptor]) -> String {
    let v: Vec<String> = entries
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| Platform::from_oci(p).to_string())
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn is_docker(k: ManifestKind) -> bool {
    matches!(
        k,
        ManifestKind::DockerManifest | ManifestKind::DockerManifestList
    )
}

fn target_docker(format: Option<ManifestFormat>, current: ManifestKind) -> bool {
    match format {
        Some(ManifestFormat::Docker) => true,
        Some(ManifestFormat::Oci) => false,
        None => is_docker(current),
    }
}

fn check_preserve(opts: &CopyOptions, what: &str) -> Result<()> {
    if opts.preserve_digests {
        return Err(TransportError::WouldChangeDigest { what: what.into() });
    }
    Ok(())
}

fn emit(opts: &CopyOptions, e: &Event) {
    if let Some(p) = &opts.progress {
        p(e);
    }
}

/// Copies one image's blobs, then writes its (possibly converted) manifest.
async fn copy_image(
    src: &Source,
    dst: &Destination,
    m: &RawManifest,
    opts: &CopyOptions,
    top: bool,
    report: &mut CopyReport,
) -> Result<RawManifest> {
    let out = copy_blobs(src, dst, m, opts, report).await?;
    dst.put_manifest(&out, top).await?;
    Ok(out)
}

/// Copies one image's blobs (config and layers, verified) and returns the manifest to write
/// (converted or with recompressed layers when the options ask for it); writes no manifest.
pub(crate) async fn copy_blobs(
    src: &Source,
    dst: &Destination,
    m: &RawManifest,
    opts: &CopyOptions,
    report: &mut CopyReport,
) -> Result<RawManifest> {
    let image = m.image().ok_or_else(|| TransportError::Invalid {
        location: src.describe(),
        what: "expected an image manifest".into(),
    })?;
    let out = if target_docker(opts.format, m.kind) == is_docker(m.kind) {
        m.clone()
    } else {
        check_preserve(opts, "converting the manifest format")?;
        let to_docker = target_docker(opts.format, m.kind);
        let converted = convert_image_manifest(image, to_docker)?;
        let mt = if to_docker {
            ManifestKind::DockerManifest
        } else {
            ManifestKind::OciManifest
        };
        RawManifest::parse(to_bytes(&converted)?, Some(mt.media_type()))?
    };
    if !dst.keeps_blobs() {
        check_preserve(
            opts,
            &format!("{} (layers are stored uncompressed)", dst.describe()),
        )?;
    }
    let to_docker = target_docker(opts.format, m.kind);
    // Layer digest -> (its compression, its diff ID) for the layers to recompress.
    // Recompression is CPU-bound and every zstd stream holds its workers' buffers: more streams
    // than cores only add memory (six zstd streams peaked at 129 MiB, twice the budget).
    let parallel = match opts.compress {
        Some(_) => opts
            .parallel
            .min(std::thread::available_parallelism().map_or(1, std::num::NonZero::get)),
        None => opts.parallel,
    };
    let mut recompress: HashMap<Digest, (LayerCompression, Option<Digest>)> = HashMap::new();
    if let Some(c) = opts.compress {
        check_compress(opts, c, to_docker, dst)?;
        let config: ImageConfig =
            serde_json::from_slice(&src.blob_bytes(image.config()).await?).map_err(
                TransportError::json(format!("config {}", image.config().digest())),
            )?;
        for (i, l) in image.layers().iter().enumerate() {
            let mt = l.media_type().to_string();
            if let Some(from) = media_type::layer_compression(&mt)
                && from != c.compression
                && !media_type::is_foreign_layer(&mt)
            {
                let diff_id = config.rootfs.diff_ids.get(i).cloned();
                recompress.insert(l.digest().clone(), (from, diff_id));
            }
        }
    }
    crate::source::check_config_size(image.config(), &src.describe())?;
    // On the first failure the other blobs stop at their next read (`Cancel`), and every
    // transfer is waited for before returning: a blocking store writer left running would
    // outlive the copy and panic when the caller's runtime shuts down under it.
    let cancel = Cancel::default();
    // `parallel` bounds the heavy transfers; with it at 1 (a user being gentle with a
    // registry) nothing else runs beside them either.
    let heavy = tokio::sync::Semaphore::new(parallel.max(1));
    // A pull into the store unpacks each layer while it downloads (containerd's
    // unpack-during-pull): the config comes first, for the diff IDs that name the layer
    // directories. Not for `--all` (images for other platforms are rarely run) nor when
    // recompressing (the stored blob is not the downloaded one).
    let mut blobs: Vec<Descriptor> = vec![image.config().clone()];
    let mut unpack: HashMap<Digest, (Digest, Digest)> = HashMap::new();
    if let Some(store) = dst.store().filter(|_| !opts.all && recompress.is_empty()) {
        let config = image.config();
        let outcome = transfer(
            src,
            dst,
            config,
            BlobKind::Config,
            opts,
            &cancel,
            &heavy,
            None,
        )
        .await?;
        report.add(outcome);
        blobs.clear();
        if let Ok(c) = store.read_json::<ImageConfig>(config.digest())
            && c.rootfs.diff_ids.len() == image.layers().len()
        {
            let chains = wharf_store::chain_id(&c.rootfs.diff_ids);
            for ((l, diff_id), chain) in image.layers().iter().zip(&c.rootfs.diff_ids).zip(chains) {
                // A blob used twice is downloaded once, for its first place in the chain.
                unpack
                    .entry(l.digest().clone())
                    .or_insert_with(|| (diff_id.clone(), chain));
            }
        }
    }
    for l in image.layers() {
        if !blobs.iter().any(|b| b.digest() == l.digest()) {
            blobs.push(l.clone());
        }
    }
    let config_digest = image.config().digest().clone();
    let kind_of = |d: &Descriptor| {
        if *d.digest() == config_digest {
            BlobKind::Config
        } else {
            BlobKind::Layer
        }
    };
    let width = if parallel <= 1 {
        1
    } else {
        parallel.max(ROUND_TRIP_PARALLEL)
    };
    let results: Vec<Result<Outcome>> = futures_util::stream::iter(blobs.iter().map(|d| {
        let how = recompress.get(d.digest()).cloned();
        let unpack = unpack.get(d.digest()).cloned();
        let cancel = cancel.clone();
        let heavy = &heavy;
        async move {
            let r = match (how, opts.compress) {
                (Some((from, diff_id)), Some(c)) => {
                    let how = Recompression {
                        from,
                        diff_id,
                        c,
                        streams: parallel.max(1),
                    };
                    // Never closed, so `acquire` cannot fail.
                    let _permit = heavy.acquire().await.ok();
                    transfer_recompressed(src, dst, d, how, opts).await
                }
                _ => transfer(src, dst, d, kind_of(d), opts, &cancel, heavy, unpack).await,
            };
            if r.is_err() {
                cancel.0.store(true, Ordering::Relaxed);
            }
            r
        }
    }))
    .buffer_unordered(width)
    .collect()
    .await;
    // In completion order: the first error is the cause, later ones are the stopped siblings.
    let outcomes = results.into_iter().collect::<Result<Vec<Outcome>>>()?;
    let mut renamed: HashMap<Digest, Recompressed> = HashMap::new();
    for o in outcomes {
        if let Outcome::Recompressed(from, r) = o {
            report.copied += 1;
            report.bytes += r.size;
            renamed.insert(from, r);
        } else {
            report.add(o);
        }
    }
    let out = match (renamed.is_empty(), opts.compress) {
        (false, Some(c)) => with_layers(&out, &renamed, c.compression, to_docker)?,
        _ => out,
    };
    Ok(out)
}

/// Refuses what recompression cannot do: keep digests, zstd in a Docker v2s2 manifest (as
/// skopeo does), a level the compression lacks, a destination that stores layers uncompressed.
fn check_compress(
    opts: &CopyOptions,
    c: Compressor,
    to_docker: bool,
    dst: &Destination,
) -> Result<()> {
    check_preserve(opts, "recompressing layers")?;
    if to_docker && c.compression == LayerCompression::Zstd {
        return Err(TransportError::Unsupported {
            destination: "a Docker v2s2 manifest".into(),
            what: "zstd-compressed layers (hint: pass --format oci)".into(),
        });
    }
    if !c.level_is_valid() {
        let range = Compressor::levels(c.compression);
        return Err(TransportError::Invalid {
            location: "--dest-compress-level".into(),
            what: format!(
                "{} is not a level of {:?} compression ({}-{})",
                c.level.unwrap_or_default(),
                c.compression,
                range.start(),
                range.end()
            ),
        });
    }
    if !dst.keeps_blobs() {
        return Err(TransportError::Unsupported {
            destination: dst.describe(),
            what: "recompressed layers (it stores layers uncompressed)".into(),
        });
    }
    Ok(())
}

/// The manifest with recompressed layers' digests, sizes and media types replaced.
fn with_layers(
    m: &RawManifest,
    renamed: &HashMap<Digest, Recompressed>,
    to: LayerCompression,
    docker: bool,
) -> Result<RawManifest> {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&m.bytes).map_err(TransportError::json("manifest"))?;
    if let Some(layers) = doc
        .get_mut("layers")
        .and_then(serde_json::Value::as_array_mut)
    {
        for l in layers {
            let old = l
                .get("digest")
                .and_then(serde_json::Value::as_str)
                .and_then(|d| wharf_oci::digest::parse(d).ok());
            if let Some(r) = old.and_then(|d| renamed.get(&d)) {
                l["digest"] = r.digest.to_string().into();
                l["size"] = r.size.into();
                l["mediaType"] = media_type::layer_media_type(to, docker).into();
            }
        }
    }
    Ok(RawManifest::parse(
        to_bytes(&doc)?,
        Some(m.kind.media_type()),
    )?)
}

/// How one layer is recompressed.
struct Recompression {
    from: LayerCompression,
    diff_id: Option<Digest>,
    c: Compressor,
    /// Layers recompressed at the same time, sharing the cores.
    streams: usize,
}

/// Moves one layer recompressed, retrying network failures like [`transfer`].
async fn transfer_recompressed(
    src: &Source,
    dst: &Destination,
    d: &Descriptor,
    how: Recompression,
    opts: &CopyOptions,
) -> Result<Outcome> {
    let Recompression {
        from,
        diff_id,
        c,
        streams,
    } = how;
    let (digest, size, kind) = (d.digest().clone(), d.size(), BlobKind::Layer);
    emit(
        opts,
        &Event::BlobStarted {
            digest: digest.clone(),
            size,
            kind,
        },
    );
    let mut attempt = 0;
    let r = loop {
        let progress = opts.progress.as_ref();
        match recompress::transfer(src, dst, d, from, diff_id.clone(), c, streams, progress).await {
            Ok(r) => break r,
            Err(e) if e.is_retryable() && attempt < opts.retry_times => {
                attempt += 1;
                emit(
                    opts,
                    &Event::BlobRetry {
                        digest: digest.clone(),
                        attempt,
                        error: e.to_string(),
                    },
                );
                tokio::time::sleep(retry_wait(opts, attempt)).await;
            }
            Err(e) => return Err(e),
        }
    };
    emit(opts, &Event::BlobDone { digest, size, kind });
    Ok(Outcome::Recompressed(d.digest().clone(), r))
}

/// The pause before attempt `attempt` (1-based): the fixed delay, or 400 ms doubling.
fn retry_wait(opts: &CopyOptions, attempt: u32) -> Duration {
    opts.retry_delay
        .unwrap_or_else(|| Duration::from_millis(200 << attempt.min(6)))
}

/// Set once a blob of the image failed; the other transfers' streams then fail their next read.
#[derive(Debug, Clone, Default)]
struct Cancel(Arc<AtomicBool>);

/// A blob stream that stops when its image's copy was cancelled.
struct Cancellable {
    inner: BlobStream,
    cancel: Cancel,
}

impl AsyncRead for Cancellable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.cancel.0.load(Ordering::Relaxed) {
            return Poll::Ready(Err(std::io::Error::other(
                "stopped because another blob of the image failed",
            )));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Moves one blob, retrying network failures with a growing pause. A blob over
/// [`SMALL_BLOB`] waits for a `heavy` permit once it is known to be needed. A layer with
/// `unpack` (diff ID, chain ID) is unpacked into a store destination on the way.
#[allow(clippy::too_many_arguments)]
async fn transfer(
    src: &Source,
    dst: &Destination,
    d: &Descriptor,
    kind: BlobKind,
    opts: &CopyOptions,
    cancel: &Cancel,
    heavy: &tokio::sync::Semaphore,
    unpack: Option<(Digest, Digest)>,
) -> Result<Outcome> {
    let (digest, size) = (d.digest().clone(), d.size());
    if dst.has_blob(d).await? {
        emit(opts, &Event::BlobSkipped { digest, size, kind });
        return Ok(Outcome::Skipped);
    }
    if dst.try_mount(d, src).await? {
        emit(opts, &Event::BlobMounted { digest, size, kind });
        return Ok(Outcome::Mounted);
    }
    // Never closed, so `acquire` cannot fail.
    let _permit = if size > SMALL_BLOB {
        heavy.acquire().await.ok()
    } else {
        None
    };
    emit(
        opts,
        &Event::BlobStarted {
            digest: digest.clone(),
            size,
            kind,
        },
    );
    let mut attempt = 0;
    loop {
        let result = async {
            // A registry destination's upload session is opened while the source's blob
            // request is on its way: one round trip instead of two before the bytes flow.
            let (source, upload) = tokio::join!(
                src.blob_to(d, dst.hashes_before_keeping()),
                dst.start_upload()
            );
            let source = match source {
                Ok(s) => s,
                Err(e) => {
                    dst.cancel_upload(upload.ok().flatten()).await;
                    return Err(e);
                }
            };
            let upload = upload?;
            let stream = Counting::wrap(source, d.digest(), opts.progress.as_ref());
            let stream: BlobStream = Box::new(Cancellable {
                inner: stream,
                cancel: cancel.clone(),
            });
            dst.put_layer_from(d, stream, src.verifies_blobs(), unpack.clone(), upload)
                .await
        }
        .await;
        match result {
            Ok(()) => break,
            Err(e) if e.is_retryable() && attempt < opts.retry_times => {
                attempt += 1;
                emit(
                    opts,
                    &Event::BlobRetry {
                        digest: digest.clone(),
                        attempt,
                        error: e.to_string(),
                    },
                );
                tokio::time::sleep(retry_wait(opts, attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
    emit(opts, &Event::BlobDone { digest, size, kind });
    Ok(Outcome::Copied(size))
}
