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
    registry: &wharf_cli::registry::RegistryArgs,
) -> anyhow::Result<ImageRecord> {
    let not_found = |e: anyhow::Error, hint: &str| {
        e.context(format!(
            "image {name:?} not found in the store at {}{hint}",
            store.root().display()
        ))
    };
    let opts = registry.client_options()?;
    if policy != Policy::Always {
        match wharf_cli::pull::find_local(store, name, &opts) {
            Some(r) => return Ok(r),
            None if policy == Policy::Never => {
                // The store's own error says the same thing: one message, with the hint.
                anyhow::bail!(
                    "image {name:?} not found in the store at {} (--pull=never); hint: berth \
                     pull {name}",
                    store.root().display()
                );
            }
            None => {}
        }
    }
    let args = wharf_cli::pull::PullArgs {
        image: name.to_string(),
        registry: registry.clone(),
        all_platforms: false,
        quiet: false,
        referrers: false,
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
    match wharf_cli::pull::find_local(store, name, &opts) {
        Some(r) => Ok(r),
        None => Ok(store.resolve(name)?),
    }
}
