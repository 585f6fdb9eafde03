//! Integration tests of the store: one binary, one module per concern.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]
// SKIP lines go to stderr, as the project's test conventions require.
#![allow(clippy::print_stderr)]

mod bench;
mod blobs;
mod common;
mod concurrent;
mod devices;
mod gc_fsck;
mod images;
mod schema;
mod tools;
mod unpack;
