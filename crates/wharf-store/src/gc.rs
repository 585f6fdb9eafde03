//! Garbage collection: blobs and layer trees that no image in `index.json` reaches and no live
//! process has pinned are removed.

use std::collections::HashSet;
use std::fs;

use wharf_oci::{Descriptor, Digest};

use crate::fsutil::remove_all;
use crate::index::LayoutIndex;
use crate::referrers::is_referrer;
use crate::refs::Role;
use crate::{Store, StoreError, chain_id, read_dir_names};

/// What [`Store::gc`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub removed_blobs: Vec<Digest>,
    /// Bytes of the removed blobs.
    pub freed_bytes: u64,
    /// Chain IDs (hex) of the removed layer trees.
    pub removed_layers: Vec<String>,
}

/// What the images in the index reach.
#[derive(Debug, Default)]
pub(crate) struct Reachable {
    pub blobs: HashSet<String>,
    pub chains: HashSet<String>,
    /// Referrer entries of `index.json` whose subject is no longer reachable: garbage.
    pub orphan_referrers: Vec<Digest>,
}

impl Store {
    /// Walks every image entry down to configs and layers, then every referrer whose subject
    /// was reached (again, until none is added: a signature may refer to an SBOM). Missing or
    /// unreadable blobs are skipped here (fsck reports them).
    pub(crate) fn reachable(&self) -> Result<Reachable, StoreError> {
        Ok(self.reachable_in(&self.read_index()?))
    }

    pub(crate) fn reachable_in(&self, index: &LayoutIndex) -> Reachable {
        let mut reach = Reachable::default();
        let (mut referrers, images): (Vec<&Descriptor>, Vec<&Descriptor>) =
            index.manifests.iter().partition(|d| is_referrer(d));
        self.walk(
            &mut reach,
            images.iter().map(|d| d.digest().clone()).collect(),
        );
        let mut subjects: Vec<(Digest, Option<Digest>)> = referrers
            .drain(..)
            .map(|d| (d.digest().clone(), self.subject_of(d.digest())))
            .collect();
        loop {
            let (live, rest): (Vec<_>, Vec<_>) = subjects
                .into_iter()
                .partition(|(_, s)| s.as_ref().is_some_and(|s| reach.blobs.contains(s.as_ref())));
            subjects = rest;
            if live.is_empty() {
                break;
            }
            self.walk(&mut reach, live.into_iter().map(|(d, _)| d).collect());
        }
        reach.orphan_referrers = subjects.into_iter().map(|(d, _)| d).collect();
        reach
    }

    fn walk(&self, reach: &mut Reachable, roots: Vec<Digest>) {
        let mut stack: Vec<(Digest, usize)> = roots.into_iter().map(|d| (d, 0)).collect();
        while let Some((manifest, depth)) = stack.pop() {
            if !reach.blobs.insert(manifest.to_string()) {
                continue;
            }
            let Ok(refs) = self.read_refs(&manifest) else {
                continue;
            };
            for (role, d) in refs.children() {
                match role {
                    Role::Manifest(_) if depth < 8 => stack.push((d.digest().clone(), depth + 1)),
                    Role::Manifest(_) => {}
                    Role::Config => {
                        reach.blobs.insert(d.digest().to_string());
                        if let Ok(diff_ids) = self.config_diff_ids(d.digest()) {
                            reach
                                .chains
                                .extend(chain_id(&diff_ids).iter().map(|c| c.digest().to_owned()));
                        }
                    }
                    Role::Layer(_) => {
                        reach.blobs.insert(d.digest().to_string());
                    }
                }
            }
        }
    }

    /// Chain IDs (hex) that containers recorded with [`Store::record_container_layers`].
    fn container_layers(&self) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::new();
        for id in read_dir_names(&self.containers_dir())? {
            let path = self
                .containers_dir()
                .join(id)
                .join(crate::layers::CONTAINER_LAYERS);
            match fs::read_to_string(&path) {
                Ok(text) => out.extend(text.lines().map(str::to_owned)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("reading", &path)(e)),
            }
        }
        Ok(out)
    }

    /// Removes the blobs and layer trees this handle wrote (its pins) that no image references
    /// and no other live process pinned, then releases the pins: after a failed pull or build
    /// nothing of it stays in the store. Returns the digests of the removed blobs.
    ///
    /// Does not wait for the metadata lock: when another process holds it (the failure may
    /// well have been that lock's timeout), nothing is removed and a later `gc` collects
    /// what is left, since no image references it.
    pub fn discard_unreferenced(&self) -> Result<Vec<Digest>, StoreError> {
        let Some(_lock) = self.try_lock_index()? else {
            return Ok(Vec::new());
        };
        let mut reach = self.reachable()?;
        // Their entries stay listed until `gc` drops them; a blob an entry names stays too.
        for d in std::mem::take(&mut reach.orphan_referrers) {
            reach.blobs.insert(d.to_string());
        }
        let own = crate::lease::own_pins(&self.inner.lease)?;
        let others = crate::lease::other_pins(&self.tmp_dir(), &self.inner.lease)?;
        let mounted = self.container_layers()?;
        let mut removed = Vec::new();
        for item in own.iter().filter(|i| !others.contains(*i)) {
            if let Some(hex) = item.strip_prefix("layer:") {
                if !reach.chains.contains(hex) && !mounted.contains(hex) {
                    remove_all(&self.layers_dir().join(hex))?;
                }
            } else if let Ok(digest) = wharf_oci::digest::parse(item)
                && !reach.blobs.contains(digest.as_ref())
            {
                remove_all(&self.blob_path(&digest))?;
                removed.push(digest);
            }
        }
        self.prune_tree_records()?;
        self.inner.lease.release_pins()?;
        Ok(removed)
    }

    /// Removes every blob and layer tree that no image references. Runs under the metadata
    /// lock, so no image can be committed (or its blobs verified) half-way through.
    pub fn gc(&self) -> Result<GcReport, StoreError> {
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let reach = self.reachable_in(&index);
        let mut report = GcReport::default();
        if !reach.orphan_referrers.is_empty() {
            // The entries go first: an entry never names a removed blob.
            index
                .manifests
                .retain(|d| !(is_referrer(d) && reach.orphan_referrers.contains(d.digest())));
            self.write_index(&lock, &index)?;
        }

        // Candidates first, pins second: whatever a live process renamed into place before our
        // listing was pinned before that rename (see `lease`).
        let blobs_dir = self.oci_dir().join("blobs");
        let mut candidates = Vec::new();
        for alg in read_dir_names(&blobs_dir)? {
            for hex in read_dir_names(&blobs_dir.join(&alg))? {
                let Ok(digest) = wharf_oci::digest::parse(&format!("{alg}:{hex}")) else {
                    continue; // not ours to judge; fsck reports it
                };
                if !reach.blobs.contains(digest.as_ref()) {
                    candidates.push(digest);
                }
            }
        }
        let layers = read_dir_names(&self.layers_dir())?;
        let pins = crate::lease::live_pins(&self.tmp_dir(), &self.inner.lease)?;
        let mounted = self.container_layers()?;

        for digest in candidates {
            if pins.contains(digest.as_ref()) {
                continue;
            }
            let path = self.blob_path(&digest);
            let size = fs::symlink_metadata(&path).map_or(0, |m| m.len());
            remove_all(&path)?;
            report.freed_bytes += size;
            report.removed_blobs.push(digest);
        }
        for hex in layers {
            if reach.chains.contains(&hex)
                || mounted.contains(&hex)
                || pins.contains(&format!("layer:{hex}"))
            {
                continue;
            }
            remove_all(&self.layers_dir().join(&hex))?;
            report.removed_layers.push(hex);
        }
        self.prune_tree_records()?;
        Ok(report)
    }
}
