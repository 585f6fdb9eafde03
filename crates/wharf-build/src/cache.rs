//! The build cache: one record per instruction under `$ROOT/cache/<key>.json`.
//!
//! A key chains the parent's key (the base image ID, `scratch`, or another stage's last key,
//! with the timestamp option), the expanded instruction, the build arguments RUN sees, and a
//! content digest of every input (COPY/ADD sources after the ignore rules, modes and owners
//! included). Because the parent key covers every earlier instruction, it also covers the config
//! those instructions produced. A record keeps the instruction's history time and, for a
//! filesystem change, its layer, so a fully cached build gives the same image ID.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;
use wharf_store::Store;

use crate::error::BuildError;

/// Bumped when what a key covers changes, so old records are never misread.
const VERSION: &str = "wharf-build cache v1";

/// A layer produced by a cached instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLayer {
    pub digest: Digest,
    pub size: u64,
    pub diff_id: Digest,
    /// `gzip`, `zstd` or `none`.
    pub compression: String,
}

/// What an instruction left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The history entry's time (RFC 3339).
    pub created: String,
    pub layer: Option<CachedLayer>,
}

/// The chained key of one instruction.
pub fn key(parent: &Digest, parts: &[&str]) -> Digest {
    let mut text = format!("{VERSION}\nparent {parent}\n");
    for p in parts {
        text.push_str(&p.len().to_string());
        text.push(':');
        text.push_str(p);
        text.push('\n');
    }
    wharf_oci::digest::sha256(text.as_bytes())
}

fn path(store: &Store, key: &Digest) -> PathBuf {
    store.cache_dir().join(format!("{}.json", key.digest()))
}

/// The record for `key`, if one exists and its layer blob is still in the store.
pub fn lookup(store: &Store, key: &Digest) -> Result<Option<Record>, BuildError> {
    let p = path(store, key);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BuildError::io("reading", &p)(e)),
    };
    let record: Record =
        serde_json::from_slice(&bytes).map_err(|source| BuildError::CacheRecord {
            path: p.clone(),
            source,
        })?;
    if let Some(l) = &record.layer
        && !store.has_blob(&l.digest)
    {
        return Ok(None);
    }
    Ok(Some(record))
}

/// Stores the record for `key` (atomically; concurrent builds may race, both are valid).
/// [`lookup`] for `--cache-ttl`: a record written more than `ttl` ago is a miss (its age is its
/// file's, the time the step ran, whatever `--timestamp` says).
pub fn lookup_within(
    store: &Store,
    key: &Digest,
    ttl: std::time::Duration,
) -> Result<Option<Record>, BuildError> {
    let p = path(store, key);
    let fresh = std::fs::metadata(&p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < ttl);
    if !fresh {
        return Ok(None);
    }
    lookup(store, key)
}

pub fn store_record(store: &Store, key: &Digest, record: &Record) -> Result<(), BuildError> {
    let bytes = serde_json::to_vec(record).map_err(BuildError::Serialize)?;
    store.write_file_atomic(&path(store, key), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_chain_and_records_round_trip() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(t.path()).unwrap();
        let base = wharf_oci::digest::sha256(b"base");
        let k1 = key(&base, &["RUN a"]);
        assert_eq!(k1, key(&base, &["RUN a"]));
        assert_ne!(k1, key(&base, &["RUN b"]));
        assert_ne!(key(&k1, &["x", "y"]), key(&k1, &["xy"]));
        assert!(lookup(&store, &k1).unwrap().is_none());
        let r = Record {
            created: "2024-01-01T00:00:00Z".into(),
            layer: None,
        };
        store_record(&store, &k1, &r).unwrap();
        assert_eq!(lookup(&store, &k1).unwrap(), Some(r));
        // A record whose layer blob is gone is a miss.
        let gone = Record {
            created: "x".into(),
            layer: Some(CachedLayer {
                digest: base.clone(),
                size: 1,
                diff_id: base.clone(),
                compression: "gzip".into(),
            }),
        };
        store_record(&store, &k1, &gone).unwrap();
        assert!(lookup(&store, &k1).unwrap().is_none());
    }
}
