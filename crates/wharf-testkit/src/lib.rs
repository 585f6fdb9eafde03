//! Test helpers shared by Wharf's test suites. Real parts only: a real registry process, real
//! unprivileged users with subordinate ID ranges, base images made from Debian's busybox-static.
//!
//! Helpers that need something the machine lacks return `None` after printing a loud
//! `SKIP:` line naming what is missing; CI installs everything, so nothing skips there.
#![forbid(unsafe_code)]
// Test helpers report skips and failures on stderr by design.
#![allow(clippy::print_stderr)]

pub mod user;
