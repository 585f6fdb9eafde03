//! Which containers use an image: `rmi` refuses to delete an image that a container still
//! mounts (podman's behaviour), unless forced. A container records the chain IDs it mounts in
//! `containers/<id>/layers` (see [`Store::record_container_layers`]); it uses an image when
//! that list holds the image's top chain ID.

use std::collections::HashSet;
use std::fs;

use wharf_oci::Digest;

use crate::images::Matched;
use crate::refs::Role;
use crate::{Store, StoreError, chain_id, read_dir_names};

impl Store {
    /// The IDs of the containers that use the image `name_or_id`, sorted. Empty when the
    /// input is one of several names of the image: removing it only untags, and the image
    /// stays for its containers.
    pub fn image_users(&self, name_or_id: &str) -> Result<Vec<String>, StoreError> {
        let (record, how) = self.resolve_matched(name_or_id)?;
        if how == Matched::Name && self.image_names(record.digest())?.len() > 1 {
            return Ok(Vec::new());
        }
        let tops = self.top_chains(record.digest());
        if tops.is_empty() {
            return Ok(Vec::new());
        }
        let mut users = Vec::new();
        for id in read_dir_names(&self.containers_dir())? {
            let path = self
                .containers_dir()
                .join(&id)
                .join(crate::layers::CONTAINER_LAYERS);
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("reading", &path)(e)),
            };
            if text.lines().any(|l| tops.contains(l)) {
                users.push(id);
            }
        }
        users.sort();
        Ok(users)
    }

    /// The top chain IDs (hex) of every image config under `manifest` (one per platform of
    /// an index). Unreadable parts are skipped: they cannot be mounted either.
    fn top_chains(&self, manifest: &Digest) -> HashSet<String> {
        let mut out = HashSet::new();
        let mut stack = vec![(manifest.clone(), 0)];
        while let Some((m, depth)) = stack.pop() {
            let Ok(refs) = self.read_refs(&m) else {
                continue;
            };
            for (role, d) in refs.children() {
                match role {
                    Role::Manifest(_) if depth < 8 => stack.push((d.digest().clone(), depth + 1)),
                    Role::Config => {
                        if let Ok(diff_ids) = self.config_diff_ids(d.digest())
                            && let Some(top) = chain_id(&diff_ids).last()
                        {
                            out.insert(top.digest().to_owned());
                        }
                    }
                    Role::Manifest(_) | Role::Layer(_) => {}
                }
            }
        }
        out
    }
}
