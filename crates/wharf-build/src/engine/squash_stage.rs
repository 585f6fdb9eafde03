//! `--squash` and `--layers=false` applied to the target stage before it is committed: its new
//! layers (those above its base) become one ([`crate::squash`]), and the history entry of its
//! last instruction that changed files owns that layer.

use super::{LayerRef, StageBuilder, StageResult};
use crate::error::BuildError;
use crate::squash;

impl StageBuilder<'_> {
    /// The stage with its new layers merged into one; the history entry of the last
    /// instruction that changed files owns it.
    pub(super) fn squash_new_layers(
        &mut self,
        mut r: StageResult,
    ) -> Result<StageResult, BuildError> {
        if r.layers.len() <= r.base_layers + 1 {
            return Ok(r);
        }
        let new: Vec<squash::LayerBlob> = r.layers[r.base_layers..]
            .iter()
            .map(|l| squash::LayerBlob {
                digest: l.digest.clone(),
                compression: l.compression,
            })
            .collect();
        let s = squash::squash(self.store, &new, self.opts.compression)?;
        r.layers.truncate(r.base_layers);
        r.layers.push(LayerRef {
            digest: s.digest,
            size: s.size,
            diff_id: s.diff_id,
            compression: s.compression,
        });
        let history = &mut r.config.history[r.base_history..];
        let last = history.iter().rposition(|h| !h.empty_layer);
        for (i, h) in history.iter_mut().enumerate() {
            h.empty_layer = Some(i) != last;
        }
        Ok(r)
    }
}
