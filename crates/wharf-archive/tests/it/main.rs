//! Integration tests of the layer codec: real trees through write, compression and apply, a
//! hostile-archive corpus, and a rootless overlay round trip.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

mod devices;
mod hostile;
mod overlay;
mod overlay_out;
mod roundtrip;
mod tree;
