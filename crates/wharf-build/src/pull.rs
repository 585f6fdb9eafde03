//! Base images that are not in the store: `FROM`, `COPY --from` and `RUN --mount from=` name an
//! image, which is looked up in the store and pulled from a registry as the pull policy says.
//!
//! Short names (`busybox`, `team/app:1`) resolve in the store first (`localhost/NAME`, then
//! the store's other candidates), then through registries.conf: an `[aliases]` entry, else each
//! `unqualified-search-registries` entry in order, the first registry that has the image wins
//! (as podman and buildah with `short-name-mode` permissive). Pulled images keep their full
//! name in the store, so the next build finds them without the network.

use std::collections::BTreeMap;

use wharf_oci::{ImageConfig, Platform, RawManifest, Reference};
use wharf_registry::{ClientOptions, RegistriesConf};
use wharf_store::Store;
use wharf_transport::{PullEvent, PullRequest, TransportError};

use crate::error::BuildError;

/// When to contact the registry for an image (buildah's `--pull`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull only when the store lacks the image (`--pull=missing`).
    #[default]
    Missing,
    /// Always pull; a failed pull fails the build (`--pull=always`).
    Always,
    /// Pull when the registry has it, keeping the local image when the registry cannot be
    /// reached or lacks it (`--pull=true`, `--pull=newer`): blobs already present are not
    /// transferred again, so an unchanged image costs one manifest request.
    Newer,
    /// Never pull (`--pull=never`, `--pull=false`).
    Never,
}

impl PullPolicy {
    /// Parses buildah's values: `always`, `missing`, `never`, `newer`, `true`, `false`
    /// (`ifmissing`/`ifnewer` as aliases), case-insensitive.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_lowercase().as_str() {
            "missing" | "ifmissing" => Self::Missing,
            "always" => Self::Always,
            "true" | "newer" | "ifnewer" => Self::Newer,
            "never" | "false" => Self::Never,
            _ => return None,
        })
    }
}

/// How base images are fetched.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub policy: PullPolicy,
    /// Registry access: `--tls-verify`, `--creds`, `--authfile`, `--cert-dir`.
    pub client: ClientOptions,
    /// The platform to pick from a registry's manifest list; the host's when `None`. A local
    /// image of another platform counts as missing.
    pub platform: Option<Platform>,
    /// The signature policy base images must satisfy; `None` checks nothing.
    pub signature_policy: Option<std::sync::Arc<wharf_transport::PolicyContext>>,
}

/// Resolves image names for one build, pulling each name at most once.
#[derive(Debug, Default)]
pub(crate) struct Puller {
    /// Input name -> the store name it resolved to.
    resolved: BTreeMap<String, String>,
}

impl Puller {
    /// The store name for `name`, pulling it when the policy says so. `pulling` is called with
    /// each registry reference before it is pulled.
    pub(crate) fn resolve(
        &mut self,
        store: &Store,
        opts: &PullOptions,
        runtime: &tokio::runtime::Handle,
        name: &str,
        pulling: &mut dyn FnMut(&str),
    ) -> Result<String, BuildError> {
        // Stages may pull one name for different platforms (`FROM --platform=`).
        let key = match &opts.platform {
            Some(p) => format!("{name} {p}"),
            None => name.to_owned(),
        };
        if let Some(n) = self.resolved.get(&key) {
            return Ok(n.clone());
        }
        let mut local = store.resolve(name);
        let mut name = name;
        // A short name pulled before is in the store under its registry name (a search
        // registry's, an alias's): found there, it is not pulled again.
        let found;
        if local.is_err()
            && Reference::is_short_name(name)
            && let Ok(conf) = opts.client.registries_conf()
            && let Ok(c) = candidates(name, &conf)
            && let Some(hit) = c.into_iter().find(|c| store.resolve(c).is_ok())
        {
            found = hit;
            name = &found;
            local = store.resolve(name);
        }
        // Another platform's image pulled under this name is missing for this build (a
        // manifest list is kept: the engine picks from it; a local `localhost/` image cannot
        // be pulled, the engine refuses its platform).
        if let (Some(want), Ok(record)) = (&opts.platform, &local)
            && opts.policy != PullPolicy::Never
            && !record
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("localhost/"))
            && local_platform(store, record.digest()).is_some_and(|p| !want.matches(&p))
        {
            local = Err(wharf_store::StoreError::ImageNotFound {
                input: name.to_owned(),
            });
        }
        let resolved = match (opts.policy, local) {
            (PullPolicy::Never | PullPolicy::Missing, Ok(_)) => name.to_owned(),
            (PullPolicy::Never, Err(source)) => {
                return Err(BuildError::NotPulled {
                    name: name.to_owned(),
                    source: Box::new(source),
                });
            }
            (PullPolicy::Newer, Ok(_)) => match pull(store, opts, runtime, name, pulling) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(image = name, error = %e, "pull failed; using the local image");
                    name.to_owned()
                }
            },
            (_, _) => pull(store, opts, runtime, name, pulling)?,
        };
        self.resolved.insert(key, resolved.clone());
        Ok(resolved)
    }
}

/// The registry references a name may mean, in the order to try: the shared resolver of every
/// pull.
fn candidates(name: &str, conf: &RegistriesConf) -> Result<Vec<String>, BuildError> {
    match wharf_transport::pull::candidates(name, conf) {
        Ok(c) => Ok(c),
        Err(_) if conf.unqualified_search_registries.is_empty() => {
            Err(BuildError::NoSearchRegistries {
                name: name.to_owned(),
            })
        }
        Err(source) => Err(BuildError::RegistriesConf {
            source: Box::new(source),
        }),
    }
}

/// Pulls `name` into the store and returns the store name it got: the pull every command
/// shares ([`wharf_transport::pull::pull`]).
fn pull(
    store: &Store,
    opts: &PullOptions,
    runtime: &tokio::runtime::Handle,
    name: &str,
    pulling: &mut dyn FnMut(&str),
) -> Result<String, BuildError> {
    // The process's registry context: registries.conf is read once per process.
    let client =
        opts.client
            .clone()
            .with_config()
            .map_err(|source| BuildError::RegistriesConf {
                source: Box::new(source),
            })?;
    // Resolved here first for the build's own message when no search registry is configured.
    let conf = client
        .registries_conf()
        .map_err(|source| BuildError::RegistriesConf {
            source: Box::new(source),
        })?;
    candidates(name, &conf)?;
    let req = PullRequest {
        name,
        client: &client,
        platform: opts.platform.clone(),
        all_platforms: false,
        retry_times: client.retry.times,
        policy: opts.signature_policy.clone(),
        registry_only: true,
        referrers: false,
    };
    wharf_transport::pull::pull(store, &req, runtime, &mut |e| match e {
        PullEvent::Pulling(r) => pulling(&r.to_string()),
        PullEvent::FromMirror(m) => {
            tracing::info!(image = name, mirror = m, "pulled from a mirror");
        }
    })
    .map_err(|f| {
        let tried = f
            .tried
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        BuildError::PullFailed {
            name: name.to_owned(),
            tried,
            source: Box::new(f.tried.into_iter().next_back().map_or_else(
                || TransportError::BadReference {
                    input: name.to_owned(),
                    why: "no registry to pull from".into(),
                },
                |(_, e)| e,
            )),
        }
    })
}

/// The platform of a single image's config; `None` for a manifest list or what cannot be read.
fn local_platform(store: &Store, digest: &wharf_oci::Digest) -> Option<Platform> {
    let raw = RawManifest::parse(store.read_small(digest).ok()?, None).ok()?;
    let config: ImageConfig = store.read_json(raw.image()?.config().digest()).ok()?;
    Some(Platform::new(
        &config.os,
        &config.architecture,
        config.variant.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_values_as_buildah() {
        assert_eq!(PullPolicy::parse("always"), Some(PullPolicy::Always));
        assert_eq!(PullPolicy::parse("Missing"), Some(PullPolicy::Missing));
        assert_eq!(PullPolicy::parse("never"), Some(PullPolicy::Never));
        assert_eq!(PullPolicy::parse("false"), Some(PullPolicy::Never));
        assert_eq!(PullPolicy::parse("true"), Some(PullPolicy::Newer));
        assert_eq!(PullPolicy::parse("sometimes"), None);
    }

    #[test]
    fn short_names_use_aliases_then_search_registries() {
        let conf = RegistriesConf::parse(
            std::path::Path::new("/r.conf"),
            "unqualified-search-registries = [\"a.example\", \"b.example:5000\"]\n\
             [aliases]\n\"app\" = \"quay.io/team/app\"\n",
        )
        .unwrap();
        assert_eq!(
            candidates("busybox:1.36", &conf).unwrap(),
            ["a.example/busybox:1.36", "b.example:5000/busybox:1.36"]
        );
        assert_eq!(
            candidates("app:v2", &conf).unwrap(),
            ["quay.io/team/app:v2"]
        );
        assert_eq!(
            candidates("127.0.0.1:5000/x", &conf).unwrap(),
            ["127.0.0.1:5000/x"]
        );
        let empty = RegistriesConf::default();
        assert!(matches!(
            candidates("busybox", &empty),
            Err(BuildError::NoSearchRegistries { .. })
        ));
    }
}
