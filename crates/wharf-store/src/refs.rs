//! What a manifest or index refers to, read loosely so that OCI and Docker v2s2 documents,
//! manifests and indexes go through one parser.

use serde::Deserialize;
use wharf_oci::{Descriptor, Digest};

use crate::{Store, StoreError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refs {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// The role a referenced blob plays, for messages and for deciding what to descend into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Config,
    Layer(usize),
    Manifest(usize),
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config => f.write_str("config"),
            Self::Layer(i) => write!(f, "layer {i}"),
            Self::Manifest(i) => write!(f, "manifest {i}"),
        }
    }
}

impl Refs {
    pub(crate) fn parse(bytes: &[u8], what: &dyn std::fmt::Display) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Json {
            what: what.to_string(),
            source,
        })
    }

    /// Every blob this document names. `subject` is a back-reference (referrers API) and is not
    /// followed.
    pub(crate) fn children(&self) -> Vec<(Role, &Descriptor)> {
        let mut out = Vec::new();
        if let Some(c) = &self.config {
            out.push((Role::Config, c));
        }
        out.extend(
            self.layers
                .iter()
                .enumerate()
                .map(|(i, d)| (Role::Layer(i), d)),
        );
        out.extend(
            self.manifests
                .iter()
                .enumerate()
                .map(|(i, d)| (Role::Manifest(i), d)),
        );
        out
    }
}

#[derive(Debug, Deserialize)]
struct ConfigRootfs {
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

impl Store {
    pub(crate) fn read_refs(&self, d: &Digest) -> Result<Refs, StoreError> {
        let bytes = self.read_small(d)?;
        Refs::parse(&bytes, &format_args!("blob {d}"))
    }

    /// The diff IDs listed in an image config blob.
    pub fn config_diff_ids(&self, config: &Digest) -> Result<Vec<Digest>, StoreError> {
        let c: ConfigRootfs = self.read_json(config)?;
        Ok(c.rootfs.map(|r| r.diff_ids).unwrap_or_default())
    }
}
