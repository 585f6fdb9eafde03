//! Flags every Wharf binary takes.

use std::path::PathBuf;

/// Options common to kiln, ferry and berth.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]
    #[arg(long, global = true, env = "WHARF_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Log messages at this level and above to stderr
    #[arg(long, global = true, value_name = "LEVEL", default_value = "warn",
          value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub log_level: String,
}

impl GlobalArgs {
    /// Opens the store named by `--root` / `WHARF_ROOT`, or the default one.
    pub fn open_store(&self) -> anyhow::Result<wharf_store::Store> {
        use anyhow::Context as _;
        let root = match &self.root {
            Some(r) => r.clone(),
            None => wharf_store::default_root()?,
        };
        wharf_store::Store::open(&root)
            .with_context(|| format!("opening the store at {}", root.display()))
    }

    /// Installs the stderr logger. `RUST_LOG` refines the level per module when set.
    pub fn init_logging(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&self.log_level));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .try_init();
    }
}
