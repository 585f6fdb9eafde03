//! Integration tests of wharf-registry: against Debian's real `docker-registry` (started by
//! wharf-testkit on a free port), and against a small in-process HTTP fake for the error paths
//! a real registry cannot produce on demand.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::many_single_char_names,
    clippy::format_push_string
)]

mod fake;
mod real;

use std::time::Duration;

use wharf_registry::{ClientOptions, ConfigPaths, RetryPolicy};

/// Options isolated from the machine's auth files, certs.d and registries.conf.
pub fn isolated_opts(dir: &std::path::Path) -> ClientOptions {
    ClientOptions {
        paths: ConfigPaths::isolated(dir),
        retry: RetryPolicy {
            times: 3,
            delay: None,
            base: Duration::from_millis(10),
            max: Duration::from_secs(5),
        },
        ..ClientOptions::default()
    }
}

/// Deterministic pseudo-random bytes (xorshift), so blobs do not compress or repeat.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
