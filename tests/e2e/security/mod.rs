//! The adversarial suite of issue 11: each test performs an attack on the real binaries, as
//! root and rootless, and asserts that it fails.

mod exec_race;
mod fds;
