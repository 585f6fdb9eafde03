//! A container of `berth run` up to the moment it starts: its flags checked before anything
//! exists ([`Plan::new`]), then, with the image resolved, its directory, root filesystem,
//! volumes, network, bundle and record ([`Plan::create`]). On failure nothing is left behind.

use std::path::PathBuf;

use wharf_oci::{ImageConfig, ImageManifest};
use wharf_sandbox::cgroup::Limits;
use wharf_sandbox::overlay::{Driver, MountRequest};
use wharf_sandbox::spec::init::InitMode;
use wharf_sandbox::spec::{SeccompMode, SpecOptions};
use wharf_store::Store;

use crate::ContainerError;
use crate::error::Ctx as _;
use crate::record::{RECORD, Record, STATE, State, now, remove_anonymous_volumes, write_json};
use crate::volumes::Volume;

/// What `berth run` asks for, its flags as given (environment entries already `KEY=VALUE`).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The image as the user named it (kept in the record, said in messages).
    pub image: String,
    pub name: Option<String>,
    /// `--runtime`: `embedded` when `None`.
    pub runtime: Option<String>,
    /// `--storage-driver`: the first that works when `None`.
    pub storage_driver: Option<String>,
    /// `-v`, `--mount`, `--tmpfs`.
    pub volume: Vec<String>,
    pub mount: Vec<String>,
    pub tmpfs: Vec<String>,
    /// `--network` (`None`: private with `-p`, else none) and `-p`.
    pub network: Option<String>,
    pub publish: Vec<String>,
    /// `--memory`, `--cpus`, `--pids-limit`, `--cgroups` (`enabled` or `disabled`).
    pub memory: Option<String>,
    pub cpus: Option<String>,
    pub pids_limit: Option<String>,
    pub cgroups: String,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub seccomp: SeccompMode,
    pub no_new_privileges: bool,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    /// `--entrypoint`, parsed (empty: none).
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD when not empty.
    pub command: Vec<String>,
    pub hostname: Option<String>,
    pub read_only: bool,
    pub tty: bool,
    pub init: bool,
    /// `--userns=keep-id`.
    pub keep_id: bool,
    pub detach: bool,
    pub remove: bool,
}

/// The image a container is made from, as found in (or pulled into) the store.
#[derive(Debug, Clone, Copy)]
pub struct Image<'a> {
    /// The image ID (config digest).
    pub id: &'a wharf_oci::Digest,
    pub manifest: &'a ImageManifest,
    pub config: &'a ImageConfig,
}

/// The flags, checked: what the container will be, before the store is touched.
#[derive(Debug)]
pub struct Plan {
    opts: CreateOptions,
    runtime: String,
    volumes: Vec<Volume>,
    network: crate::network::Plan,
    limits: Option<Limits>,
    init: Option<InitMode>,
}

/// A container whose root filesystem is mounted and whose bundle is written.
pub struct Prepared {
    pub dir: PathBuf,
    pub record: Record,
    pub bundle: wharf_sandbox::bundle::Bundle,
    pub driver: Driver,
    pub merged: PathBuf,
    /// Things the caller should tell the user (device nodes a rootless unpack skipped).
    pub warnings: Vec<String>,
}

impl Prepared {
    /// Undoes what [`Plan::create`] set up: stops the network helper, unmounts the root
    /// filesystem and, with `remove`, deletes the container's directory and its anonymous
    /// volumes.
    pub fn finish(&self, remove: bool) {
        wharf_sandbox::network::teardown(&self.dir);
        let _ = self.driver.unmount(&self.merged);
        if remove {
            let _ = std::fs::remove_dir_all(&self.dir);
            remove_anonymous_volumes(&self.dir, &self.record);
        }
    }
}

impl Plan {
    /// Checks every flag; nothing is created.
    pub fn new(opts: CreateOptions) -> Result<Plan, ContainerError> {
        let runtime = crate::runtime::program(opts.runtime.as_deref())?;
        let volumes = crate::volumes::parse_all(&opts.volume, &opts.mount, &opts.tmpfs)?;
        let network = crate::network::plan(opts.network.as_deref(), &opts.publish)?;
        let limits = crate::resources::plan(
            opts.memory.as_deref(),
            opts.cpus.as_deref(),
            opts.pids_limit.as_deref(),
            &opts.cgroups,
        )?;
        wharf_sandbox::spec::capability_set(&opts.cap_add, &opts.cap_drop)?;
        let init = opts
            .init
            .then(|| crate::runtime::init_mode(&runtime))
            .transpose()?;
        Ok(Plan {
            opts,
            runtime,
            volumes,
            network,
            limits,
            init,
        })
    }

    /// The runtime program: `embedded`, or runc's command line.
    pub fn runtime(&self) -> &str {
        &self.runtime
    }

    /// Creates the container from `image`: unpacks its layers, takes the name (under the
    /// names lock, [`crate::names`]), mounts the root filesystem, sets up volumes and network,
    /// writes the bundle, the record and a `created` state.
    pub fn create(self, store: &Store, image: Image<'_>) -> Result<Prepared, ContainerError> {
        let Plan {
            opts,
            runtime,
            mut volumes,
            mut network,
            limits,
            init,
        } = self;
        let config = image.config;
        let image_volumes = config.config.as_ref().and_then(|c| c.volumes.as_ref());
        let anonymous = crate::volumes::anonymous_for_image(
            image_volumes.into_iter().flat_map(|v| v.keys()),
            &volumes,
        )?;
        volumes.extend(anonymous);
        let anonymous = crate::volumes::anonymous_names(&volumes);
        let unpacked = store
            .unpack_layers(
                image.manifest,
                &config.rootfs.diff_ids,
                &wharf_store::default_apply_options(),
            )
            .ctx(|| format!("unpacking the layers of {}", opts.image))?;
        // Rootless, mknod is refused: device nodes in a layer are skipped (as
        // containers/storage does) and said once, when the layer is unpacked.
        let warnings = unpacked
            .skipped_devices
            .iter()
            .map(|(layer, skipped)| {
                format!(
                    "layer {layer}: skipped {} device node(s) that a rootless user cannot \
                     create: {}",
                    skipped.count,
                    skipped.first.join(", ")
                )
            })
            .collect();
        let layers = unpacked.dirs;

        let id = crate::new_id();
        // Held until the record is written: the name is taken only then (kiln takes the same
        // lock for its working containers' names).
        let names_lock = crate::names::lock(store)?;
        let name = match &opts.name {
            Some(n) => {
                crate::names::ensure_free(store, &names_lock, n)?;
                n.clone()
            }
            None => format!("berth_{}", &id[..12]),
        };
        let dir = store.container_dir(&id)?;
        let driver = match &opts.storage_driver {
            Some(n) => Driver::by_name(n)?,
            None => Driver::detect(&store.containers_dir()),
        };
        let cleanup = |e: ContainerError| {
            let _ = std::fs::remove_dir_all(&dir);
            e
        };
        let chains = wharf_store::chain_id(&config.rootfs.diff_ids);
        store
            .record_container_layers(&id, &chains)
            .map_err(|e| cleanup(e.into()))?;
        let req = MountRequest {
            layers,
            upper: dir.join("upper"),
            work: dir.join("work"),
            target: dir.join("merged"),
            // `--rm`: the container's changes go when it ends (podman mounts these volatile too).
            volatile: opts.remove,
        };
        for d in [&req.upper, &req.work, &req.target] {
            std::fs::create_dir_all(d)
                .ctx(|| format!("creating {}", d.display()))
                .map_err(cleanup)?;
        }
        driver.mount(&req).map_err(|e| cleanup(e.into()))?;
        let unmount_cleanup = |e: ContainerError| {
            let _ = driver.unmount(&req.target);
            cleanup(e)
        };

        let mut spec = SpecOptions::new(
            &req.target,
            opts.hostname
                .clone()
                .unwrap_or_else(|| id[..12].to_string()),
        );
        spec.readonly_rootfs = opts.read_only;
        spec.terminal = opts.tty;
        spec.init = init;
        spec.command = (!opts.command.is_empty()).then(|| opts.command.clone());
        spec.entrypoint.clone_from(&opts.entrypoint);
        spec.env.clone_from(&opts.env);
        spec.workdir.clone_from(&opts.workdir);
        spec.user.clone_from(&opts.user);
        if let Some(limits) = limits {
            let path = wharf_sandbox::cgroup::check(&limits, &id)
                .map_err(|e| unmount_cleanup(e.into()))?;
            spec.cgroup = Some((path, limits));
        }
        spec.network = network.mode;
        if let Some(tool) = &network.tool {
            wharf_sandbox::network::assign_host_ports(&mut network.ports)
                .map_err(|e| unmount_cleanup(e.into()))?;
            let netns = wharf_sandbox::network::setup(tool, &dir, &network.ports)
                .map_err(|e| unmount_cleanup(e.into()))?;
            spec.network_namespace = Some(netns);
            spec.dns_servers = vec![tool.dns_forwarder()];
        }
        let unmount_cleanup = |e: ContainerError| {
            wharf_sandbox::network::teardown(&dir);
            unmount_cleanup(e)
        };
        spec.cap_add.clone_from(&opts.cap_add);
        spec.cap_drop.clone_from(&opts.cap_drop);
        spec.seccomp = opts.seccomp.clone();
        spec.no_new_privileges = opts.no_new_privileges || spec.no_new_privileges;
        let unmount_cleanup = |e: ContainerError| {
            crate::volumes::remove_anonymous(store.root(), &anonymous);
            unmount_cleanup(e)
        };
        spec.extra_mounts =
            crate::volumes::to_oci(store.root(), &volumes, &req.target).map_err(unmount_cleanup)?;
        if opts.keep_id {
            crate::keep_id::apply(&req.target, &mut spec).map_err(unmount_cleanup)?;
        }
        let bundle =
            wharf_sandbox::bundle::write_bundle(&dir.join("bundle"), config.config.as_ref(), spec)
                .map_err(|e| unmount_cleanup(e.into()))?;
        let command = bundle
            .spec
            .process()
            .as_ref()
            .and_then(|p| p.args().clone())
            .unwrap_or_default();
        if command.is_empty() {
            return Err(unmount_cleanup(ContainerError::Invalid(format!(
                "no command given and image {} has neither CMD nor ENTRYPOINT",
                opts.image
            ))));
        }
        let record = Record {
            id,
            name,
            image: opts.image.clone(),
            image_id: image.id.to_string(),
            command,
            created: now(),
            runtime,
            driver: driver.kind().name().to_string(),
            detached: opts.detach,
            remove: opts.remove,
            stop_signal: config
                .config
                .as_ref()
                .and_then(|c| c.stop_signal.clone())
                .unwrap_or_else(|| "SIGTERM".into()),
            anonymous_volumes: anonymous.clone(),
            ports: network
                .ports
                .iter()
                .map(crate::ports::Published::from)
                .collect(),
        };
        let write = write_json(&dir, RECORD, &record)
            .and_then(|()| write_json(&dir, STATE, &State::created()));
        write.map_err(unmount_cleanup)?;
        drop(names_lock);
        Ok(Prepared {
            dir,
            record,
            bundle,
            driver,
            merged: req.target,
            warnings,
        })
    }
}

/// `--entrypoint`: a JSON array, else one word; empty clears the image's.
pub fn parse_entrypoint(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    serde_json::from_str::<Vec<String>>(s).unwrap_or_else(|_| vec![s.to_string()])
}

/// Checks the flags of a plan whose outcome a test can see without a store.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_refused_before_anything_exists() {
        let opts = |f: fn(&mut CreateOptions)| {
            let mut o = CreateOptions {
                image: "box".into(),
                cgroups: "enabled".into(),
                ..CreateOptions::default()
            };
            f(&mut o);
            Plan::new(o)
        };
        assert_eq!(opts(|_| {}).unwrap().runtime(), "embedded");
        let err = opts(|o| o.volume = vec!["/x:relative".into()]).unwrap_err();
        assert!(err.to_string().contains("must be absolute"), "{err}");
        let err = opts(|o| {
            o.network = Some("none".into());
            o.publish = vec!["8080:80".into()];
        })
        .unwrap_err();
        assert!(err.to_string().contains("needs a private network"), "{err}");
        assert!(opts(|o| o.cap_add = vec!["CAP_NOPE".into()]).is_err());
        assert!(opts(|o| o.runtime = Some("no-such-runtime-x".into())).is_err());
    }

    #[test]
    fn entrypoints() {
        assert_eq!(parse_entrypoint(""), Vec::<String>::new());
        assert_eq!(parse_entrypoint("sh"), ["sh"]);
        assert_eq!(parse_entrypoint(r#"["sh","-c"]"#), ["sh", "-c"]);
    }
}
