//! Unpacked layers: `layers/<chain-id-hex>`, one directory per layer holding that layer's own
//! diff, named by the chain ID of the stack it completes.

use std::path::PathBuf;

use wharf_oci::Digest;

use crate::{Store, StoreError};

/// The file in `containers/<id>/` listing the chain IDs (hex, one a line) the container mounts.
pub(crate) const CONTAINER_LAYERS: &str = "layers";

/// The image-spec chain IDs of a layer stack, bottom-first:
/// `ChainID(L0) = DiffID(L0)`, `ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))`
/// (<https://github.com/opencontainers/image-spec/blob/main/config.md#layer-chainid>).
pub fn chain_id(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => wharf_oci::digest::sha256(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

impl Store {
    /// The directory of the unpacked layer completing the stack with this chain ID.
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layers_dir().join(chain_id.digest())
    }

    /// `containers/<id>`, for an ID of `[A-Za-z0-9_.-]` characters that does not start with
    /// `.` (so it always names a directory inside the store).
    pub fn container_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        let ok = !id.is_empty()
            && id.len() <= 128
            && !id.starts_with('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(StoreError::InvalidContainerId { id: id.to_owned() });
        }
        Ok(self.containers_dir().join(id))
    }

    /// Records which unpacked layers a container mounts (`containers/<id>/layers`), so that
    /// [`Store::gc`] keeps them while the container exists even if its image is removed.
    /// Removing the container's directory releases them.
    pub fn record_container_layers(
        &self,
        container_id: &str,
        chain_ids: &[Digest],
    ) -> Result<(), StoreError> {
        let dir = self.container_dir(container_id)?;
        crate::fsutil::mkdir_p(&dir)?;
        let mut text = String::new();
        for c in chain_ids {
            text.push_str(c.digest());
            text.push('\n');
        }
        self.write_file_atomic(&dir.join(CONTAINER_LAYERS), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec_formula() {
        let a = wharf_oci::digest::sha256(b"a");
        let b = wharf_oci::digest::sha256(b"b");
        let c = wharf_oci::digest::sha256(b"c");
        let ids = chain_id(&[a.clone(), b.clone(), c.clone()]);
        assert_eq!(ids[0], a);
        let ab = wharf_oci::digest::sha256(format!("{a} {b}").as_bytes());
        assert_eq!(ids[1], ab);
        assert_eq!(
            ids[2],
            wharf_oci::digest::sha256(format!("{ab} {c}").as_bytes())
        );
        assert!(chain_id(&[]).is_empty());
    }
}
