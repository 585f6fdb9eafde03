//! The build: stages in dependency order, each instruction looked up in the cache and otherwise
//! executed in a working container, then the target stage committed to the store.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wharf_archive::LayerCompression;
use wharf_dockerfile::instruction::{Instruction, Located};
use wharf_dockerfile::stage::{self, Plan};
use wharf_oci::config::{ContainerConfig, History};
use wharf_oci::oci_spec::image::ImageManifestBuilder;
use wharf_oci::{
    Descriptor, Digest, ImageConfig, ImageManifest, ManifestFormat, MediaType, Platform,
    RawManifest, media_type,
};
use wharf_sandbox::overlay::Driver;
use wharf_store::Store;

use crate::cache::{self, CachedLayer, Record};
use crate::config::{self, StageFlags};
use crate::container::WorkingContainer;
use crate::context::Context;
use crate::error::BuildError;
use crate::metadata;
use crate::mounts;
use crate::network::RunNetwork;
use crate::onbuild;
use crate::pull::{PullOptions, Puller};
use crate::remote_cache::{RemoteCache, RemoteCacheOptions};
use crate::rootfs;
use crate::run::{self, RunRequest};
use crate::secrets::RunOptions;
use copy_step::CopyInputs;
use wharf_sandbox::isolation::Isolation;

mod copy_step;
mod schedule;
mod squash_stage;

/// What to build and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile; `CONTEXT/Containerfile` or `CONTEXT/Dockerfile` when `None`.
    pub dockerfile: Option<PathBuf>,
    /// Names to give the image (short names go under `localhost/`).
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    /// `--cache-ttl`: cached steps older than this are run again (`0`: as `no_cache`).
    pub cache_ttl: Option<std::time::Duration>,
    pub format: ManifestFormat,
    /// Seconds since the epoch for every created time; also clamps mtimes in new layers.
    pub timestamp: Option<i64>,
    pub compression: LayerCompression,
    /// Pull policy and registry access for images not in the store.
    pub pull: PullOptions,
    /// The process's async runtime: pulls, ADD URLs, the registry cache and `--output` run on
    /// it (a library call never starts its own).
    pub runtime: tokio::runtime::Handle,
    /// Secrets, SSH agents and the network for RUN.
    pub run: RunOptions,
    /// `--label`: set in the image config over the Dockerfile's LABELs.
    pub labels: BTreeMap<String, String>,
    /// `--annotation`: set on the image manifest (OCI format only).
    pub annotations: BTreeMap<String, String>,
    /// `--cache-to` / `--cache-from`: the cache shared through registries.
    pub remote_cache: RemoteCacheOptions,
    /// `--squash`: the target stage's new layers become one.
    pub squash: bool,
    /// `--layers=false`: no cache lookups or records, and one new layer, as `squash`.
    pub layers: bool,
    /// `--jobs`: how many stages may be built at once.
    pub jobs: usize,
    /// `--platform`: the platform built (base images chosen for it, RUN emulated when it is
    /// not the host's); the host's when `None`. [`crate::build_platforms`] builds several.
    pub platform: Option<Platform>,
    /// The helper of RUN's private network (`pasta` or `slirp4netns`); the first installed
    /// when `None`.
    pub network_tool: Option<String>,
    /// `--env`, `--unsetenv`, `--unsetlabel`, `--omit-history`.
    pub edits: metadata::ConfigEdits,
    /// `--skip-unused-stages=false`: build every stage up to the target, needed or not.
    pub skip_unused_stages: bool,
    /// `--source-date-epoch` (buildah 1.38): the created time of the image and its history
    /// (and `$SOURCE_DATE_EPOCH` for the Dockerfile, set by the caller as a build argument);
    /// file times in layers are kept unless `rewrite_timestamp`. `timestamp` wins over it.
    pub source_date_epoch: Option<i64>,
    /// `--rewrite-timestamp`: clamp file times in new layers to `source_date_epoch`.
    pub rewrite_timestamp: bool,
    /// `--build-context NAME=...`: what `COPY --from=NAME`, `RUN --mount=from=NAME` and
    /// `FROM NAME` name instead of a stage or image.
    pub build_contexts: BTreeMap<String, NamedContext>,
}

/// A named build context (BuildKit's `--build-context`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedContext {
    /// A local directory, read like the main context (its own ignore file applies).
    Dir(PathBuf),
    /// `docker-image://REF`: the image REF.
    Image(String),
}

impl NamedContext {
    /// Parses `NAME=VALUE` of `--build-context`: `docker-image://REF`, or a directory path.
    /// Other sources (URLs, `oci-layout://`, `target:`) are refused with the reason.
    pub fn parse(spec: &str) -> Result<(String, Self), BuildError> {
        let bad = |reason: &str| BuildError::InvalidFlag {
            flag: "build-context",
            value: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (name, value) = spec
            .split_once('=')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .ok_or_else(|| bad("expected NAME=PATH or NAME=docker-image://REF"))?;
        if let Some(r) = value.strip_prefix("docker-image://") {
            return Ok((name.to_lowercase(), Self::Image(r.to_owned())));
        }
        if value.contains("://") || value.starts_with("target:") {
            return Err(bad(
                "only a local directory or docker-image://REF is supported (not URLs, \
                 oci-layout:// or target:)",
            ));
        }
        let dir = PathBuf::from(value);
        if !dir.is_dir() {
            return Err(bad("not a directory"));
        }
        Ok((name.to_lowercase(), Self::Dir(dir)))
    }
}

impl BuildOptions {
    /// Defaults for building `context`; network work runs on `runtime`.
    pub fn new(context: impl Into<PathBuf>, runtime: tokio::runtime::Handle) -> Self {
        Self {
            context: context.into(),
            dockerfile: None,
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            target: None,
            no_cache: false,
            cache_ttl: None,
            format: ManifestFormat::Oci,
            timestamp: None,
            compression: LayerCompression::Gzip,
            pull: PullOptions::default(),
            runtime,
            run: RunOptions::default(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            remote_cache: RemoteCacheOptions::default(),
            squash: false,
            layers: true,
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            platform: None,
            network_tool: None,
            edits: metadata::ConfigEdits::default(),
            skip_unused_stages: true,
            build_contexts: BTreeMap::new(),
            source_date_epoch: None,
            rewrite_timestamp: false,
        }
    }
}

/// Progress, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An instruction starts (FROM included). `number` counts from 1 within the stage.
    Step {
        stage: usize,
        number: usize,
        total: usize,
        text: String,
    },
    /// The last step came from the cache.
    CacheHit { key: Digest },
    /// Something the user should know.
    Warning(String),
    /// An image is being pulled from this registry reference.
    Pulling(String),
}

/// The committed image.
#[derive(Debug, Clone)]
pub struct Built {
    /// The config digest, as docker and podman show image IDs.
    pub image_id: Digest,
    pub manifest: Digest,
    /// Instructions executed / taken from the cache.
    pub executed: usize,
    pub cached: usize,
    /// How many of the image's layers came from the target stage's base (the rest are this
    /// build's).
    pub base_layers: usize,
    /// The Dockerfile as read (its file name and bytes), for provenance.
    pub dockerfile: (String, Vec<u8>),
    /// What the build read from outside the context: base images by digest, ADD URLs.
    pub materials: Vec<crate::attest::Material>,
}

#[derive(Debug, Clone)]
struct LayerRef {
    digest: Digest,
    size: u64,
    diff_id: Digest,
    compression: LayerCompression,
}

#[derive(Debug, Clone)]
struct StageResult {
    config: ImageConfig,
    layers: Vec<LayerRef>,
    key: Digest,
    root_env: Vec<(String, String)>,
    /// How many of `layers` and `config.history` entries came from the base.
    base_layers: usize,
    base_history: usize,
}

fn compression_name(c: LayerCompression) -> &'static str {
    match c {
        LayerCompression::None => "none",
        LayerCompression::Gzip => "gzip",
        LayerCompression::Zstd => "zstd",
    }
}

fn compression_from(name: &str) -> LayerCompression {
    match name {
        "none" => LayerCompression::None,
        "zstd" => LayerCompression::Zstd,
        _ => LayerCompression::Gzip,
    }
}

fn env_pairs(c: &ImageConfig) -> Vec<(String, String)> {
    c.config
        .as_ref()
        .and_then(|c| c.env.as_ref())
        .map(|env| {
            env.iter()
                .filter_map(|e| e.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// One build's state while it runs stages (one per thread when stages run in parallel); not
/// the working containers of `kiln from`, which are [`crate::builder`].
struct StageBuilder<'a> {
    store: &'a Store,
    opts: &'a BuildOptions,
    plan: Plan,
    file_name: String,
    context: Context,
    driver: Option<Driver>,
    results: Vec<Option<StageResult>>,
    events: &'a mut dyn FnMut(Event),
    executed: usize,
    cached: usize,
    puller: Puller,
    remote: Option<RemoteCache>,
    /// The private network of RUN steps, shared by every stage.
    network: &'a RunNetwork,
    /// The RUN isolation, decided at the first RUN, and whether chroot needs a user namespace.
    isolation: Option<(Isolation, bool)>,
    /// Base images and ADD URLs read, shared by every stage's builder (for provenance).
    materials: &'a crate::attest::Materials,
}

/// Reads and plans the Dockerfile of `opts`: its path, its file name (for messages), its bytes
/// (provenance records them) and the stage plan for `opts`' arguments, target and platform.
pub(crate) fn read_plan(
    opts: &BuildOptions,
) -> Result<(PathBuf, String, Vec<u8>, Plan), BuildError> {
    let dockerfile = opts.dockerfile.clone().unwrap_or_else(|| {
        let c = opts.context.join("Containerfile");
        if c.is_file() {
            c
        } else {
            opts.context.join("Dockerfile")
        }
    });
    let file_name = dockerfile.file_name().map_or_else(
        || "Dockerfile".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = std::fs::read(&dockerfile).map_err(|source| BuildError::ReadDockerfile {
        path: dockerfile.clone(),
        source,
    })?;
    let df_err = |e: &wharf_dockerfile::Error| BuildError::Dockerfile {
        rendered: e.in_file(&file_name).to_string(),
        line: e.pos.line,
    };
    let df = wharf_dockerfile::parse_bytes(&text).map_err(|e| df_err(&e))?;
    let plan = stage::plan(
        &df,
        &stage::BuildOptions {
            build_args: opts.build_args.clone(),
            target: opts.target.clone(),
            target_platform: opts
                .platform
                .as_ref()
                .map(crate::emulation::image_platform)
                .map(|p| wharf_dockerfile::platform::Platform {
                    os: p.os,
                    arch: p.architecture,
                    variant: p.variant.unwrap_or_default(),
                }),
            ..stage::BuildOptions::default()
        },
    )
    .map_err(|e| df_err(&e))?;
    Ok((dockerfile, file_name, text, plan))
}

/// Builds the image and commits it under `opts.tags`.
pub fn build(
    store: &Store,
    opts: &BuildOptions,
    events: &mut dyn FnMut(Event),
) -> Result<Built, BuildError> {
    // Bases are pulled for the platform built.
    let with_platform;
    let opts = if opts.platform.is_some() && opts.pull.platform != opts.platform {
        let mut o = opts.clone();
        o.pull.platform.clone_from(&opts.platform);
        with_platform = o;
        &with_platform
    } else {
        opts
    };
    let (dockerfile, file_name, text, mut plan) = read_plan(opts)?;
    if !opts.skip_unused_stages {
        // buildah's --skip-unused-stages=false: every stage before the target is built too.
        plan.needed = (0..=plan.target).collect();
    }
    // A stage a --build-context replaces is not built (BuildKit resolves the name to the
    // context first).
    let target = plan.target;
    let replaced: Vec<usize> = plan
        .stages
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            *i != target
                && s.name
                    .as_ref()
                    .is_some_and(|n| opts.build_contexts.contains_key(n))
        })
        .map(|(i, _)| i)
        .collect();
    plan.needed.retain(|i| !replaced.contains(i));
    for w in &plan.warnings {
        events(Event::Warning(w.message.clone()));
    }
    let context = Context::open(&opts.context, Some(&dockerfile))?;
    let stat_file = store.cache_dir().join(format!(
        "stat-{}.json",
        &wharf_oci::digest::sha256(opts.context.as_os_str().as_encoded_bytes()).digest()[..32]
    ));
    if let Ok(bytes) = std::fs::read(&stat_file) {
        context.load_stat_cache(&bytes);
    }
    let network = RunNetwork::new(store.temp_path("net"), opts.network_tool.clone());
    let materials = crate::attest::Materials::default();
    let mut b = StageBuilder {
        store,
        opts,
        network: &network,
        materials: &materials,
        results: vec![None; plan.stages.len()],
        plan,
        file_name,
        context,
        driver: None,
        isolation: None,
        events,
        executed: 0,
        cached: 0,
        puller: Puller::default(),
        remote: RemoteCache::open(&opts.remote_cache, &opts.runtime)?,
    };
    let target = b.plan.target;
    if opts.jobs > 1 {
        b.build_needed_stages(target, opts.jobs)?;
    } else if !opts.skip_unused_stages {
        for i in b.plan.needed.clone() {
            b.build_stage(i)?;
        }
    }
    let result = b.build_stage(target)?;
    if let Some(remote) = &mut b.remote {
        remote.finish()?;
    }
    store.write_file_atomic(&stat_file, &b.context.stat_cache_bytes()?)?;
    let base_layers = result.base_layers;
    let (image_id, manifest) = b.commit(result)?;
    Ok(Built {
        image_id,
        manifest,
        executed: b.executed,
        cached: b.cached,
        base_layers,
        dockerfile: (b.file_name.clone(), text),
        materials: materials.take(),
    })
}

impl StageBuilder<'_> {
    /// The platform stage `index` is built for: its `FROM --platform=` (e.g.
    /// `$BUILDPLATFORM` for a cross-compiling stage), else `--platform`; `None` when neither
    /// asks for one (the host's, and a base of any platform is taken as it is).
    fn stage_platform(&self, index: usize) -> Result<Option<Platform>, BuildError> {
        match &self.plan.stages[index].platform {
            Some(p) => Platform::parse(p)
                .map(Some)
                .map_err(|source| BuildError::BadPlatform {
                    value: p.clone(),
                    source,
                }),
            None => Ok(self.opts.platform.clone()),
        }
    }

    /// The fixed created time of the image and its history, if any.
    fn created_time(&self) -> Option<i64> {
        self.opts.timestamp.or(self.opts.source_date_epoch)
    }

    /// The time file times in new layers are clamped to, if any.
    fn clamp_time(&self) -> Option<i64> {
        self.opts.timestamp.or(self
            .opts
            .source_date_epoch
            .filter(|_| self.opts.rewrite_timestamp))
    }

    fn now(&self) -> String {
        let t = match self.created_time() {
            Some(s) => chrono::DateTime::from_timestamp(s, 0).unwrap_or_default(),
            None => chrono::Utc::now(),
        };
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn at(&self, loc: &Located) -> impl FnOnce(BuildError) -> BuildError {
        let file = self.file_name.clone();
        let line = loc.span.start.line;
        let instruction = loc.original.trim().to_owned();
        move |e| BuildError::Step {
            file,
            line,
            instruction,
            source: Box::new(e),
        }
    }

    fn driver(&mut self) -> Result<Driver, BuildError> {
        if let Some(d) = &self.driver {
            return Ok(d.clone());
        }
        let containers = self.store.containers_dir();
        // buildah's variable: `STORAGE_DRIVER=copy` (or `vfs`) builds without any mount.
        let d = match std::env::var("STORAGE_DRIVER") {
            Ok(name) if !name.is_empty() => Driver::by_name(&name)?,
            _ => Driver::detect(&containers),
        };
        self.driver = Some(d.clone());
        Ok(d)
    }

    /// The isolation of RUN steps: the one asked for if it can work here (else an error that
    /// names the cause and the mode that would), or the best that works, said once.
    fn isolation(&mut self) -> Result<(Isolation, bool), BuildError> {
        if let Some(i) = self.isolation {
            return Ok(i);
        }
        let facts = wharf_sandbox::isolation::Facts::probe();
        let chosen = if let Some(wanted) = self.opts.run.isolation {
            facts
                .check(wanted)
                .map_err(|reason| BuildError::Isolation { reason })?;
            wanted
        } else {
            let best = facts
                .best()
                .map_err(|reason| BuildError::Isolation { reason })?;
            if best != Isolation::Oci {
                (self.events)(Event::Warning(format!(
                    "RUN uses {best} isolation: {}; set --isolation {best} to say so",
                    facts.oci_refusal().unwrap_or_default()
                )));
            }
            best
        };
        let new_userns = chosen == Isolation::Chroot && facts.mountns_errno.is_some();
        self.isolation = Some((chosen, new_userns));
        Ok((chosen, new_userns))
    }

    /// Loads an image from the store: config, layers, image ID.
    fn load_image(
        &mut self,
        name: &str,
        platform: Option<&Platform>,
    ) -> Result<(ImageConfig, Vec<LayerRef>, Digest), BuildError> {
        let events = &mut *self.events;
        let with_platform;
        let pull = if self.opts.pull.platform.as_ref() == platform {
            &self.opts.pull
        } else {
            let mut o = self.opts.pull.clone();
            o.platform = platform.cloned();
            with_platform = o;
            &with_platform
        };
        let name = &self
            .puller
            .resolve(self.store, pull, &self.opts.runtime, name, &mut |r| {
                events(Event::Pulling(r.to_owned()));
            })?;
        let record = self
            .store
            .resolve(name)
            .map_err(|source| BuildError::BaseNotFound {
                name: name.to_owned(),
                source: Box::new(source),
            })?;
        let mut raw = RawManifest::parse(self.store.read_small(record.digest())?, None)?;
        let want = platform.cloned().unwrap_or_else(Platform::host);
        if let Some(index) = raw.index() {
            let chosen = wharf_oci::platform::select_manifest(index.manifests(), &want)
                .ok_or_else(|| BuildError::NoPlatformImage {
                    name: name.to_owned(),
                    wanted: want.to_string(),
                })?
                .clone();
            raw = RawManifest::parse(self.store.read_small(chosen.digest())?, None)?;
        }
        let manifest: ImageManifest =
            raw.image()
                .cloned()
                .ok_or_else(|| BuildError::NoPlatformImage {
                    name: name.to_owned(),
                    wanted: want.to_string(),
                })?;
        let config: ImageConfig = self.store.read_json(manifest.config().digest())?;
        let found = Platform::new(&config.os, &config.architecture, config.variant.as_deref());
        self.materials.image(
            record.name.as_deref().unwrap_or(name),
            record.digest(),
            Some(&found),
        );
        // A base of another platform is refused only when a platform was asked for: images
        // imported without one carry the host's anyway.
        if platform.is_some() && !want.matches(&found) {
            return Err(BuildError::PlatformMismatch {
                name: name.to_owned(),
                found: found.to_string(),
                wanted: want.to_string(),
            });
        }
        let layers = manifest
            .layers()
            .iter()
            .zip(config.diff_ids())
            .map(|(l, d)| LayerRef {
                digest: l.digest().clone(),
                size: l.size(),
                diff_id: d.clone(),
                compression: media_type::layer_compression(l.media_type().as_ref())
                    .unwrap_or(LayerCompression::Gzip),
            })
            .collect();
        Ok((config, layers, manifest.config().digest().clone()))
    }

    /// The unpacked lower directories of `layers`, base first.
    fn lowers(&mut self, layers: &[LayerRef]) -> Result<Vec<PathBuf>, BuildError> {
        if layers.is_empty() {
            return Ok(Vec::new());
        }
        let descs: Vec<Descriptor> = layers
            .iter()
            .map(|l| {
                Descriptor::new(
                    MediaType::from(media_type::layer_media_type(l.compression, false)),
                    l.size,
                    l.digest.clone(),
                )
            })
            .collect();
        let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let opts = wharf_store::default_apply_options();
        let unpacked = self.store.unpack_descriptors(&descs, &diff_ids, &opts)?;
        // Rootless, mknod is refused: device nodes of a base layer are skipped (as
        // containers/storage does) and said once, when the layer is first unpacked.
        for warning in unpacked.device_warnings() {
            (self.events)(Event::Warning(warning));
        }
        Ok(unpacked.dirs)
    }

    fn container(&mut self, layers: &[LayerRef]) -> Result<WorkingContainer, BuildError> {
        let driver = self.driver()?;
        let lowers = self.lowers(layers)?;
        let diff_ids = layers.iter().map(|l| l.diff_id.clone()).collect();
        WorkingContainer::create(self.store, &driver, lowers, diff_ids)
    }

    fn build_stage(&mut self, index: usize) -> Result<StageResult, BuildError> {
        if let Some(r) = &self.results[index] {
            return Ok(r.clone());
        }
        let stage = self.plan.stages[index].clone();
        let total = stage.instructions.len() + 1;
        (self.events)(Event::Step {
            stage: index,
            number: 1,
            total,
            text: stage.from.original.trim().to_owned(),
        });
        // What changes the layers beyond the instructions keys them (gzip, the default, adds
        // nothing so that existing cache entries stay valid).
        let ts = format!(
            "timestamp {:?}{}{}{}{}",
            self.opts.timestamp,
            match (self.opts.source_date_epoch, self.opts.rewrite_timestamp) {
                (None, _) => String::new(),
                (Some(s), rewrite) => format!(" source-date-epoch {s} rewrite {rewrite}"),
            },
            match self.opts.compression {
                LayerCompression::Gzip => String::new(),
                c => format!(" compression {}", compression_name(c)),
            },
            if self.opts.run.cap_add.is_empty() && self.opts.run.cap_drop.is_empty() {
                String::new()
            } else {
                format!(
                    " caps +{:?} -{:?}",
                    self.opts.run.cap_add, self.opts.run.cap_drop
                )
            },
            if self.opts.run.add_hosts.is_empty() && !self.opts.run.no_hosts {
                String::new()
            } else {
                format!(
                    " hosts {:?} no-hosts {}",
                    self.opts.run.add_hosts, self.opts.run.no_hosts
                )
            }
        );
        let platform = self.stage_platform(index).map_err(self.at(&stage.from))?;
        let (mut image, mut layers, mut key, root_env) = if let Some(b) = stage.base_stage {
            let r = self.build_stage(b)?;
            let key = cache::key(&r.key, &["FROM stage"]);
            (r.config, r.layers, key, r.root_env)
        } else if stage.base.eq_ignore_ascii_case("scratch") {
            let target =
                crate::emulation::image_platform(&platform.clone().unwrap_or_else(Platform::host));
            let image = ImageConfig {
                config: Some(ContainerConfig::default()),
                architecture: target.architecture,
                os: target.os,
                variant: target.variant,
                ..ImageConfig::default()
            };
            // An explicit platform keys the cache: a RUN over scratch differs per platform.
            let platform = platform.as_ref().map(|p| format!("platform {p}"));
            let parts: Vec<&str> = std::iter::once(ts.as_str())
                .chain(platform.as_deref())
                .collect();
            let key = cache::key(&wharf_oci::digest::sha256(b"scratch"), &parts);
            (image, Vec::new(), key, Vec::new())
        } else {
            let base = match self.named_context(&stage.base) {
                Some(NamedContext::Image(r)) => r,
                Some(NamedContext::Dir(_)) => {
                    return Err(self.at(&stage.from)(BuildError::Unsupported {
                        what: format!(
                            "FROM the directory build context {:?}: use it with COPY --from",
                            stage.base
                        ),
                    }));
                }
                None => stage.base.clone(),
            };
            let (image, layers, id) = self
                .load_image(&base, platform.as_ref())
                .map_err(self.at(&stage.from))?;
            let env = env_pairs(&image);
            let key = cache::key(&id, &[&ts]);
            (image, layers, key, env)
        };
        // BuildKit makes sure every stage has a PATH (dockerfile2llb: "make sure that PATH is
        // always set"), `scratch` and bases without one alike; RUN and `$PATH` see it too.
        let mut root_env = root_env;
        if !root_env.iter().any(|(k, _)| k == "PATH") {
            let default = wharf_sandbox::spec::DEFAULT_PATH;
            root_env.push(("PATH".to_owned(), default.to_owned()));
            image
                .config
                .get_or_insert_with(ContainerConfig::default)
                .env
                .get_or_insert_with(Vec::new)
                .push(format!("PATH={default}"));
        }
        // The base's ONBUILD triggers run first, as if written after FROM.
        let triggers =
            onbuild::take_triggers(&mut image, &stage.from).map_err(self.at(&stage.from))?;
        let total = total + triggers.len();
        self.plan.stages[index].instructions.splice(0..0, triggers);
        let (base_layers, base_history) = (layers.len(), image.history.len());
        let expanded = self
            .plan
            .expand(index, &root_env)
            .map_err(|e| BuildError::Dockerfile {
                rendered: e.in_file(&self.file_name).to_string(),
                line: e.pos.line,
            })?;
        image.config.get_or_insert_with(ContainerConfig::default);
        let mut flags = StageFlags::default();
        let mut container: Option<WorkingContainer> = None;
        for (n, ex) in expanded.instructions.iter().enumerate() {
            let loc = &ex.located;
            (self.events)(Event::Step {
                stage: index,
                number: n + 2,
                total,
                text: loc.original.trim().to_owned(),
            });
            let args_env: Vec<String> =
                ex.run_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let step = self.step(
                index,
                loc,
                &args_env,
                &mut image,
                &mut layers,
                &mut key,
                &mut flags,
                &mut container,
            );
            step.map_err(self.at(loc))?;
        }
        drop(container);
        let result = StageResult {
            config: image,
            layers,
            key,
            root_env,
            base_layers,
            base_history,
        };
        self.results[index] = Some(result.clone());
        Ok(result)
    }

    /// Runs (or takes from the cache) one instruction.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        stage: usize,
        loc: &Located,
        args_env: &[String],
        image: &mut ImageConfig,
        layers: &mut Vec<LayerRef>,
        key: &mut Digest,
        flags: &mut StageFlags,
        container: &mut Option<WorkingContainer>,
    ) -> Result<(), BuildError> {
        let ins = &loc.instruction;
        let created_by = loc.original.trim().to_owned();
        let desc = format!("{ins:?}");
        let env_text = args_env.join("\n");
        let config_only = !matches!(
            ins,
            Instruction::Run(_)
                | Instruction::Copy(_)
                | Instruction::Add(_)
                | Instruction::Workdir(_)
        );
        // Inputs read from outside the container, resolved before the cache lookup.
        let copy_inputs = match ins {
            Instruction::Copy(c) | Instruction::Add(c) => {
                Some(self.copy_inputs(stage, c, matches!(ins, Instruction::Add(_)))?)
            }
            _ => None,
        };
        let run_mounts = match ins {
            Instruction::Run(r) if !r.mounts.is_empty() => Some(self.run_mounts(stage, r)?),
            _ => None,
        };
        let input_digest = match (&copy_inputs, &run_mounts) {
            (Some(i), _) => i.digest.clone(),
            (None, Some(m)) => m.key.clone(),
            (None, None) => String::new(),
        };
        let new_key = cache::key(key, &[&desc, &env_text, &input_digest]);
        config::apply(image, flags, ins);
        let hit = if self.opts.no_cache || !self.opts.layers {
            None
        } else {
            match self.opts.cache_ttl {
                // A remote record's age is unknown: with a TTL only local records count.
                Some(ttl) => cache::lookup_within(self.store, &new_key, ttl)?,
                None => match cache::lookup(self.store, &new_key)? {
                    Some(r) => Some(r),
                    None => self.remote_lookup(&new_key),
                },
            }
        };
        let record = if let Some(record) = hit {
            self.cached += 1;
            (self.events)(Event::CacheHit {
                key: new_key.clone(),
            });
            if record.layer.is_some() {
                // The working container no longer matches the layer stack.
                *container = None;
            }
            record
        } else {
            self.executed += 1;
            let created = self.now();
            let layer = if config_only {
                None
            } else {
                if container.is_none() {
                    *container = Some(self.container(layers)?);
                }
                let Some(ctr) = container.as_mut() else {
                    return Err(BuildError::NoOverlay);
                };
                let changed = self.execute(ins, args_env, image, ctr, copy_inputs, run_mounts)?;
                if changed || !matches!(ins, Instruction::Workdir(_)) {
                    let snap = ctr.snapshot(self.opts.compression, self.clamp_time())?;
                    Some(CachedLayer {
                        digest: snap.info.digest,
                        size: snap.info.size,
                        diff_id: snap.info.diff_id,
                        compression: compression_name(snap.compression).to_owned(),
                    })
                } else {
                    None
                }
            };
            let record = Record { created, layer };
            if self.opts.layers {
                cache::store_record(self.store, &new_key, &record)?;
            }
            record
        };
        if let Some(remote) = self.remote.as_mut().filter(|_| self.opts.layers) {
            remote.push(self.store, &new_key, &record);
        }
        let empty_layer = record.layer.is_none();
        if let Some(l) = record.layer {
            layers.push(LayerRef {
                digest: l.digest,
                size: l.size,
                diff_id: l.diff_id,
                compression: compression_from(&l.compression),
            });
        }
        image.history.push(History {
            created: Some(record.created),
            created_by: Some(created_by),
            empty_layer,
            ..History::default()
        });
        *key = new_key;
        Ok(())
    }

    /// A record from the `--cache-from` repositories; their failures are warnings.
    fn remote_lookup(&mut self, key: &Digest) -> Option<Record> {
        let (found, warnings) = self.remote.as_ref()?.pull(self.store, key);
        for w in warnings {
            (self.events)(Event::Warning(crate::error::chain(&w)));
        }
        found
    }

    /// Executes a filesystem instruction; returns whether it changed anything (WORKDIR).
    fn execute(
        &mut self,
        ins: &Instruction,
        args_env: &[String],
        image: &ImageConfig,
        ctr: &mut WorkingContainer,
        inputs: Option<CopyInputs>,
        run_mounts: Option<mounts::Planned>,
    ) -> Result<bool, BuildError> {
        let cfg = image.config.clone().unwrap_or_default();
        let rootfs = ctr.rootfs();
        match ins {
            Instruction::Run(r) => {
                // The image's own platform: a stage may name another than the build's.
                let target =
                    Platform::new(&image.os, &image.architecture, image.variant.as_deref());
                crate::emulation::check_emulation(&target).map_err(|reason| {
                    BuildError::NoEmulation {
                        platform: target.to_string(),
                        reason,
                    }
                })?;
                // `RUN --device` names CDI devices (Dockerfile labs), resolved in the build's
                // CDI spec directories: a missing optional one is skipped with a warning, as
                // BuildKit skips it; a missing required one, or one wharf cannot apply, fails.
                let mut cdi_mounts = Vec::new();
                let mut cdi_env = Vec::new();
                for (name, required) in &r.devices {
                    let dirs = wharf_sandbox::cdi::spec_dirs(&self.opts.run.sandbox.cdi_spec_dirs);
                    match wharf_sandbox::cdi::resolve(name, &dirs) {
                        Ok(edits) => {
                            cdi_mounts.extend(edits.mounts.into_iter().map(|mount| {
                                run::BuildMount {
                                    mount,
                                    chown: false,
                                }
                            }));
                            cdi_env.extend(edits.env);
                        }
                        Err(e @ wharf_sandbox::cdi::CdiError::Unknown { .. }) if !*required => {
                            (self.events)(Event::Warning(format!(
                                "RUN --device={name}: {e}; the optional device is skipped"
                            )));
                        }
                        Err(e) => return Err(BuildError::Cdi(e)),
                    }
                }
                let (isolation, new_userns) = self.isolation()?;
                let scratch = ctr.scratch();
                let req = RunRequest {
                    run: r,
                    config: &cfg,
                    args_env: args_env.to_vec(),
                    rootfs: &rootfs,
                    scratch: &scratch,
                    hostname: ctr.id(),
                };
                let workdir = cfg.working_dir.clone().unwrap_or_default();
                let mut attached = run_mounts
                    .as_ref()
                    .map(|m| m.attach(self.store, &self.context, &rootfs, &scratch, &workdir))
                    .transpose()?;
                let build_mounts: Vec<run::BuildMount> = self
                    .opts
                    .run
                    .sandbox
                    .mounts
                    .iter()
                    .cloned()
                    .chain(cdi_mounts)
                    .collect();
                let mut device_env = self.opts.run.sandbox.env.clone();
                device_env.extend(cdi_env);
                if !device_env.is_empty() {
                    attached
                        .get_or_insert_with(mounts::Attached::empty)
                        .env
                        .extend(device_env);
                }
                if !build_mounts.is_empty() {
                    let owner = match cfg.user.as_deref().filter(|u| !u.is_empty()) {
                        Some(u) => {
                            let r = wharf_sandbox::spec::resolve_user(&rootfs, u)?;
                            (r.uid, r.gid)
                        }
                        None => (0, 0),
                    };
                    attached
                        .get_or_insert_with(mounts::Attached::empty)
                        .attach_build_mounts(&rootfs, &build_mounts, owner)?;
                }
                // chroot and rootfs isolation have no network namespace of their own: RUN
                // shares the job container's, as buildah's chroot isolation does.
                let build_network = if isolation == Isolation::Oci {
                    self.opts.run.network
                } else {
                    Some(wharf_sandbox::spec::NetworkMode::Host)
                };
                let private = if run::network(r, build_network)?
                    == wharf_sandbox::spec::NetworkMode::Private
                {
                    Some(self.network.join()?)
                } else {
                    None
                };
                let extras = run::RunExtras {
                    mounts: attached
                        .as_ref()
                        .map(|a| a.mounts.clone())
                        .unwrap_or_default(),
                    env: attached.as_ref().map(|a| a.env.clone()).unwrap_or_default(),
                    network: build_network,
                    private,
                    cap_add: self.opts.run.cap_add.clone(),
                    cap_drop: self.opts.run.cap_drop.clone(),
                    add_hosts: self.opts.run.add_hosts.clone(),
                    no_hosts: self.opts.run.no_hosts,
                    isolation,
                    new_userns,
                    sandbox: self.opts.run.sandbox.clone(),
                };
                let result = run::run_with(&req, &extras);
                if let Some(a) = attached {
                    a.finish();
                }
                drop(run_mounts);
                result?;
                Ok(true)
            }
            Instruction::Workdir(_) => {
                let dir = cfg.working_dir.clone().unwrap_or_else(|| "/".to_owned());
                let owner = match cfg.user.as_deref().filter(|u| !u.is_empty()) {
                    Some(u) => {
                        let r = wharf_sandbox::spec::resolve_user(&rootfs, u)?;
                        Some((r.uid, r.gid))
                    }
                    None => None,
                };
                let before = rootfs::resolve(&rootfs, &dir, true)
                    .map_err(BuildError::io("resolving", &dir))?;
                let existed = before.is_dir();
                rootfs::mkdir_all(&rootfs, &dir, owner)
                    .map_err(BuildError::io("creating", &dir))?;
                Ok(!existed)
            }
            Instruction::Copy(c) | Instruction::Add(c) => {
                let Some(inputs) = inputs else {
                    return Ok(false);
                };
                let deferred =
                    self.copy(c, &cfg, &rootfs, inputs, matches!(ins, Instruction::Add(_)))?;
                // The step's snapshot, next, fills the files while it writes the layer.
                ctr.defer(deferred);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl StageBuilder<'_> {
    /// Writes config and manifest and records the image under the tags.
    fn commit(&mut self, result: StageResult) -> Result<(Digest, Digest), BuildError> {
        let result = if self.opts.squash || !self.opts.layers {
            self.squash_new_layers(result)?
        } else {
            result
        };
        let mut image = result.config;
        // BuildKit stamps the platform built on the image, whatever its last stage's FROM
        // --platform (`FROM --platform=$BUILDPLATFORM` for a cross-compiled final stage).
        if let Some(p) = &self.opts.platform {
            let p = crate::emulation::image_platform(p);
            image.os = p.os;
            image.architecture = p.architecture;
            image.variant = p.variant;
        }
        image.rootfs.diff_ids = result.layers.iter().map(|l| l.diff_id.clone()).collect();
        "layers".clone_into(&mut image.rootfs.kind);
        image.created = match self.created_time() {
            Some(_) => Some(self.now()),
            None => image
                .history
                .last()
                .and_then(|h| h.created.clone())
                .or_else(|| Some(self.now())),
        };
        metadata::apply_labels(&mut image, &self.opts.labels);
        metadata::apply_edits(&mut image, &self.opts.edits);
        let docker = self.opts.format == ManifestFormat::Docker;
        if !docker {
            let (oci, dropped) = image.to_oci();
            if !dropped.is_empty() {
                (self.events)(Event::Warning(format!(
                    "{} not supported for the OCI image format and dropped; use --format docker",
                    dropped.join(", ")
                )));
            }
            image = oci;
        }
        image.validate()?;
        let config_bytes = image.to_vec().map_err(BuildError::Serialize)?;
        let config_type = if docker {
            media_type::DOCKER_CONFIG
        } else {
            media_type::OCI_CONFIG
        };
        let config_desc = self.store.put_blob_bytes(config_type, &config_bytes)?;
        let layer_descs: Vec<Descriptor> = result
            .layers
            .iter()
            .map(|l| {
                Descriptor::new(
                    MediaType::from(media_type::layer_media_type(l.compression, docker)),
                    l.size,
                    l.digest.clone(),
                )
            })
            .collect();
        let manifest_type = if docker {
            media_type::DOCKER_MANIFEST
        } else {
            media_type::OCI_MANIFEST
        };
        let mut manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::from(manifest_type))
            .config(config_desc.clone())
            .layers(layer_descs)
            .build()?;
        if docker && !self.opts.annotations.is_empty() {
            (self.events)(Event::Warning(
                "annotations are not supported for the docker image format and dropped".to_owned(),
            ));
        } else {
            metadata::apply_annotations(&mut manifest, &self.opts.annotations);
        }
        let bytes = wharf_oci::manifest::to_bytes(&manifest)?;
        let desc = self
            .store
            .commit_image(&bytes, manifest_type, &self.opts.tags)?;
        Ok((config_desc.digest().clone(), desc.digest().clone()))
    }
}
