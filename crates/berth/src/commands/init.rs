//! `berth run --init`: which init runs as the container's PID 1.

use wharf_sandbox::spec::init::{InitMode, find_init_binary};

/// The embedded runtime's own init, or a static init from the host for an external runtime.
pub fn mode(runtime: &str) -> anyhow::Result<InitMode> {
    if runtime == "embedded" {
        return Ok(InitMode::Embedded);
    }
    find_init_binary().map(InitMode::Binary).ok_or_else(|| {
        anyhow::anyhow!(
            "--init with --runtime {runtime} needs an init binary on the host (catatonit, \
             tini-static or tini in PATH); hint: apt-get install catatonit, or leave --runtime \
             out to use the embedded runtime's own init"
        )
    })
}
