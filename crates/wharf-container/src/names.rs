//! One namespace of container names for the whole store, as containers/storage gives podman
//! and buildah: a name taken by a berth container (`container.json`) cannot be taken by a
//! working container of `kiln from` (`builder.json`), and the other way round.
//!
//! A name is taken when the container's record is written. The check and the write happen
//! under the store's one names lock ([`lock`], `$ROOT/containers.lock`), so that of two
//! commands asking for one name at once, the second sees the first's record:
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_container::ContainerError> {
//! # let store = wharf_store::Store::open_default()?;
//! let lock = wharf_container::names::lock(&store)?;
//! wharf_container::names::ensure_free(&store, &lock, "web")?;
//! // ... write the record naming "web" ...
//! drop(lock);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use wharf_store::{ContainerNamesLock, Store};

use crate::error::Ctx as _;
use crate::{BUILDER_RECORD, ContainerError, RECORD};

/// Takes the store's names lock (waiting at most the store's lock timeout). Hold it from
/// checking a name until the record naming it is written, and while changing a record.
pub fn lock(store: &Store) -> Result<ContainerNamesLock, ContainerError> {
    Ok(store.lock_container_names()?)
}

/// Every name taken in the store, with its container's ID: berth's containers and kiln's
/// working containers. A record that cannot be read takes no name (its owner reports it).
pub fn taken(store: &Store) -> Result<BTreeMap<String, String>, ContainerError> {
    #[derive(Deserialize)]
    struct Named {
        id: String,
        name: String,
    }
    let dir = store.containers_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).ctx(|| format!("listing {}", dir.display())),
    };
    let mut out = BTreeMap::new();
    for entry in entries {
        let path = entry.ctx(|| format!("listing {}", dir.display()))?.path();
        for file in [RECORD, BUILDER_RECORD] {
            if let Ok(bytes) = std::fs::read(path.join(file))
                && let Ok(r) = serde_json::from_slice::<Named>(&bytes)
            {
                out.insert(r.name, r.id);
            }
        }
    }
    Ok(out)
}

/// [`ContainerError::NameInUse`], naming the container that has it, when `name` is taken. The
/// lock is asked for so that the answer stays true until the caller's record is written.
pub fn ensure_free(
    store: &Store,
    _held: &ContainerNamesLock,
    name: &str,
) -> Result<(), ContainerError> {
    match taken(store)?.remove(name) {
        Some(id) => Err(ContainerError::NameInUse {
            name: name.to_owned(),
            id,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(store: &Store, id: &str, file: &str, name: &str) {
        let dir = store.containers_dir().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let json = serde_json::json!({"id": id, "name": name});
        std::fs::write(dir.join(file), json.to_string()).unwrap();
    }

    #[test]
    fn berth_and_kiln_share_one_namespace() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        assert!(taken(&store).unwrap().is_empty());
        write(&store, "aaa", RECORD, "web");
        write(&store, "bbb", BUILDER_RECORD, "work");
        let lock = lock(&store).unwrap();
        for (name, id) in [("web", "aaa"), ("work", "bbb")] {
            let err = ensure_free(&store, &lock, name).unwrap_err();
            assert!(
                matches!(&err, ContainerError::NameInUse { id: i, .. } if i == id),
                "{err:?}"
            );
            assert!(err.to_string().contains("already in use by"), "{err}");
        }
        ensure_free(&store, &lock, "free").unwrap();
    }

    /// Many takers of one name at once, each checking and then writing its record under the
    /// lock with a pause in between: exactly one gets it.
    #[test]
    fn the_lock_lets_one_of_many_take_a_name() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let store = store.clone();
                    s.spawn(move || {
                        let held = lock(&store).unwrap();
                        if ensure_free(&store, &held, "same").is_err() {
                            return 0;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        write(&store, &format!("c{i}"), RECORD, "same");
                        1
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }
}
