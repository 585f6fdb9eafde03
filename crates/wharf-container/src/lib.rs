//! Containers of the store, whichever binary made them: `berth run`'s containers and `kiln
//! from`'s working containers live side by side in `$ROOT/containers/<id>/`, share one
//! namespace of names taken under one lock ([`names`]), get their IDs from one [`new_id`] and
//! are found by name, full ID or unique ID prefix by one [`lookup`].
//!
//! For berth's containers this crate is the lifecycle: a new container up to its start
//! ([`create`]), the record and its state machine ([`record`]: `created` → `running` →
//! `exited`), signals, stop and removal ([`control`]), the end of a container whoever notices
//! it ([`finish`]), the external runtime driver ([`runtime`]: runc, crun) beside the embedded
//! one of `wharf-sandbox`, and what `run`'s flags become ([`volumes`], [`ports`], [`network`],
//! [`resources`], [`keep_id`]). The `berth` binary parses flags, calls this crate and prints.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_container::ContainerError> {
//! let store = wharf_store::Store::open_default()?;
//! let found = wharf_container::find(&store, "web")?;
//! println!("{} is {}", found.record.name, found.status());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod control;
pub mod create;
pub mod error;
pub mod keep_id;
pub mod lookup;
pub mod names;
pub mod network;
pub mod ports;
pub mod record;
pub mod resources;
pub mod runtime;
pub mod volumes;

pub use error::ContainerError;
pub use record::{
    Found, LOG, RECORD, Record, STATE, State, Status, alive, clean_up_after_dead_monitor, find,
    finish, list, load, now, remove_anonymous_volumes, wait_exited, write_json,
};

/// The record of a working container of `kiln from` (buildah's builder), in its directory.
pub const BUILDER_RECORD: &str = "builder.json";

/// A new container ID, for every kind of container: 64 random hex digits (podman's and
/// buildah's form), so that any prefix of it finds the container.
pub fn new_id() -> String {
    use rand::Rng as _;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_64_hex_digits_and_differ() {
        let a = super::new_id();
        let b = super::new_id();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
