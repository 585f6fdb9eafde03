//! The adversarial suite of issue 11: each test performs one attack and fails on a Wharf that
//! does not resist it.

mod pull;
mod store;
