//! The registry context of a process: one [`ClientOptions`] built from the flags and the
//! environment, with registries.conf (and its drop-ins and the short-name alias cache) read once,
//! that every registry path of kiln, berth and ferry hands to the transports. Auth files and
//! certificate directories are looked up per host from the same [`ConfigPaths`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::client::ClientOptions;
use crate::error::Result;
use crate::paths::ConfigPaths;
use crate::registries_conf::RegistriesConf;

/// The options every registry access of a process uses; see [`ClientOptions::with_config`].
pub type RegistryContext = ClientOptions;

/// registries.conf as `paths` finds it, read once per process (per distinct paths).
///
/// # Errors
/// A configuration file that cannot be read or parsed.
pub fn registries_conf(paths: &ConfigPaths) -> Result<Arc<RegistriesConf>> {
    static CACHE: OnceLock<Mutex<HashMap<ConfigPaths, Arc<RegistriesConf>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(c) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(paths)
    {
        return Ok(c.clone());
    }
    let conf = Arc::new(RegistriesConf::load(paths)?);
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(paths.clone(), conf.clone());
    Ok(conf)
}

impl ClientOptions {
    /// These options with registries.conf loaded from their paths when not set already.
    ///
    /// # Errors
    /// A configuration file that cannot be read or parsed.
    pub fn with_config(mut self) -> Result<Self> {
        if self.registries.is_none() {
            self.registries = Some(registries_conf(&self.paths)?);
        }
        Ok(self)
    }

    /// The loaded registries.conf, or the one the paths name (read once per process).
    ///
    /// # Errors
    /// A configuration file that cannot be read or parsed.
    pub fn registries_conf(&self) -> Result<Arc<RegistriesConf>> {
        match &self.registries {
            Some(r) => Ok(r.clone()),
            None => registries_conf(&self.paths),
        }
    }
}
