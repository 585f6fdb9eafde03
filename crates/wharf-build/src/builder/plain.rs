//! Working containers of the copy driver, where neither kernel overlay nor fuse-overlayfs can
//! be mounted (an unprivileged CI job container): as buildah's vfs driver, the root is a plain
//! directory, `merged/`, made at `kiln from` by applying the base's layers, and it stays there
//! between commands, so nothing is ever mounted. Beside the record, `baseline` holds the tree's
//! stat snapshot as `kiln from` made it ([`crate::tree_diff`], the build's copy driver's differ);
//! `kiln commit` writes the difference between that snapshot and the tree now as the new layer
//! (whiteouts for deletions), the same layer the overlay's upper directory gives.

use std::path::PathBuf;

use wharf_archive::Change;
use wharf_sandbox::overlay::{DriverKind, MountRequest};
use wharf_store::Store;

use super::{Container, ContainerError};
use crate::tree_diff::Tree;

/// The snapshot's file in the container's directory.
const BASELINE: &str = "baseline";

impl Container {
    /// Whether the container's root is a plain directory (the copy driver), not an overlay.
    pub fn is_plain(&self) -> bool {
        self.record.driver == DriverKind::Copy.name()
    }

    fn baseline(&self) -> PathBuf {
        self.dir.join(BASELINE)
    }
}

/// At `kiln from`: applies the base's layers into `merged/` and keeps the tree's snapshot.
pub(super) fn prepare(store: &Store, ctr: &Container) -> Result<(), ContainerError> {
    let req = MountRequest {
        layers: ctr.lowers(store)?,
        upper: ctr.upper(),
        work: ctr.work(),
        target: ctr.merged(),
        volatile: false,
    };
    ctr.driver()?.mount(&req)?;
    let tree = scan(ctr)?;
    store.write_file_atomic(&ctr.baseline(), &tree.encode())?;
    Ok(())
}

fn scan(ctr: &Container) -> Result<Tree, ContainerError> {
    let root = ctr.merged();
    Tree::scan(&root).map_err(ContainerError::io("scanning", root))
}

/// Everything that changed in the container since `kiln from`, in layer order.
pub(super) fn changes(ctr: &Container) -> Result<Vec<Change>, ContainerError> {
    let path = ctr.baseline();
    let before = std::fs::read(&path)
        .and_then(|b| Tree::decode(&b))
        .map_err(|source| ContainerError::Baseline {
            path: path.clone(),
            source,
        })?;
    Ok(before.changes(&scan(ctr)?))
}
