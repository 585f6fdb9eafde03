//! The adversarial suite of issue 11: each test performs one attack from the audit and must
//! fail on the code the audit found.

mod network;
mod runtime_dir;
