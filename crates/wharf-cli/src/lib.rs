//! Plumbing shared by the three binaries: the global flags every command takes, logging set-up,
//! output helpers (tables, JSON, Go-template-like `--format`), human-readable sizes and times, and
//! the `main` wrapper that prints an error chain and maps it to an exit code.
//!
//! ```
//! assert_eq!(wharf_cli::human::size(1_500_000), "1.5 MB");
//! ```
#![forbid(unsafe_code)]

pub mod global;
pub mod human;
pub mod images;
pub mod output;
pub mod progress;
pub mod pull;
pub mod registry;
pub mod run;
pub mod run_flags;
pub mod signing;
pub mod template;
pub mod unshare;

pub use global::GlobalArgs;
pub use run::{ExitError, Needs, enter_userns, main_with, reexec_sealed, run_command};
