//! `berth run --pull=always|missing|never`: when `run` pulls its image, as podman decides it.

use wharf_store::{ImageRecord, Store};

/// `--pull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// Pull the image before every run
    Always,
    /// Pull only when the store does not have the image
    Missing,
    /// Never pull: the image must be in the store
    Never,
}

/// The image `name` from the store, pulled first as `policy` says.
pub fn resolve(
    store: &Store,
    name: &str,
    policy: Policy,
    tls_verify: Option<bool>,
    signature_policy: &wharf_cli::signing::PolicyArgs,
) -> anyhow::Result<ImageRecord> {
    let not_found = |e: anyhow::Error, hint: &str| {
        e.context(format!(
            "image {name:?} not found in the store at {}{hint}",
            store.root().display()
        ))
    };
    if policy != Policy::Always {
        match store.resolve(name) {
            Ok(r) => return Ok(r),
            Err(e) if policy == Policy::Never => {
                return Err(not_found(
                    anyhow::anyhow!(e),
                    &format!(" (--pull=never); hint: berth pull {name}"),
                ));
            }
            Err(_) => {}
        }
    }
    let args = wharf_cli::pull::PullArgs {
        image: name.to_string(),
        registry: wharf_cli::registry::RegistryArgs {
            tls_verify,
            creds: None,
            cert_dir: None,
            authfile: std::env::var_os("REGISTRY_AUTH_FILE").map(Into::into),
            retry: 3,
            policy: signature_policy.clone(),
        },
        all_platforms: false,
        quiet: false,
    };
    // The image ID goes nowhere: `run`'s standard output is the container's.
    let pulled = wharf_cli::pull::pull(store, &args, &mut std::io::sink(), &mut std::io::stderr());
    if let Err(e) = pulled {
        return Err(if policy == Policy::Missing {
            not_found(e, " and pulling it failed")
        } else {
            e
        });
    }
    Ok(store.resolve(name)?)
}
