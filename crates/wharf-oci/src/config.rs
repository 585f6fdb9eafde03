//! The image configuration: the OCI `application/vnd.oci.image.config.v1+json` document and its
//! Docker twin. One struct holds both: Docker-only fields (`Healthcheck`, `OnBuild`, `Shell`) are
//! typed, and anything else either format carries (`container_config`, `docker_version`, ...) is
//! kept in `extra` so that reading and writing a config loses nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Digest;

/// An empty JSON object, the value type of `ExposedPorts` and `Volumes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        default,
        rename = "os.features",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    /// Fields of either format that wharf does not interpret, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        Self {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// The runtime defaults of an image (`config` in the JSON), with Docker's field names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Docker only; dropped by the OCI format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Docker only; dropped by the OCI format.
    #[serde(default, rename = "OnBuild", skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// Docker only; dropped by the OCI format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Nanoseconds, as Docker stores durations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
}

impl ImageConfig {
    /// Parses a config blob.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Serialises deterministically (field order fixed by the struct, maps sorted).
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn diff_ids(&self) -> &[Digest] {
        &self.rootfs.diff_ids
    }

    /// The config as the OCI format keeps it: Docker-only runtime fields removed. Returns the
    /// names of the dropped fields so callers can warn, as buildah does.
    pub fn to_oci(&self) -> (Self, Vec<&'static str>) {
        let mut out = self.clone();
        let mut dropped = Vec::new();
        if let Some(c) = out.config.as_mut() {
            if c.healthcheck.take().is_some() {
                dropped.push("Healthcheck");
            }
            if c.on_build.take().is_some() {
                dropped.push("OnBuild");
            }
            if c.shell.take().is_some() {
                dropped.push("Shell");
            }
        }
        (out, dropped)
    }

    /// Checks the rules the JSON schema cannot express (image-spec's own validator adds them).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.rootfs.kind != "layers" {
            return Err(ConfigError::RootFsType(self.rootfs.kind.clone()));
        }
        if let Some(env) = self.config.as_ref().and_then(|c| c.env.as_ref()) {
            for e in env {
                if e.split_once('=').is_none_or(|(k, _)| k.is_empty()) {
                    return Err(ConfigError::Env(e.clone()));
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("image config: rootfs.type must be \"layers\", found {0:?}")]
    RootFsType(String),
    #[error("image config: Env entry {0:?} is not KEY=value")]
    Env(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_fields_and_unknown_fields_survive_a_round_trip() {
        let json = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],
            "Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},"OnBuild":["RUN x"],"Shell":["/bin/sh","-c"],
            "Hostname":"abc"},"rootfs":{"type":"layers","diff_ids":[]},"docker_version":"20.10",
            "history":[{"created_by":"x","empty_layer":true}]}"#;
        let c = ImageConfig::from_slice(json.as_bytes()).unwrap();
        let cc = c.config.as_ref().unwrap();
        assert_eq!(cc.on_build.as_deref(), Some(&["RUN x".to_owned()][..]));
        assert_eq!(
            cc.extra.get("Hostname").and_then(|v| v.as_str()),
            Some("abc")
        );
        assert_eq!(
            c.extra.get("docker_version").and_then(|v| v.as_str()),
            Some("20.10")
        );
        let back: serde_json::Value = serde_json::from_slice(&c.to_vec().unwrap()).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
        let (oci, dropped) = c.to_oci();
        assert_eq!(dropped, ["Healthcheck", "OnBuild", "Shell"]);
        assert!(oci.config.unwrap().healthcheck.is_none());
    }

    #[test]
    fn validate_catches_what_the_schema_cannot() {
        let mut c = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        assert!(c.validate().is_ok());
        c.config = Some(ContainerConfig {
            env: Some(vec!["=x".into()]),
            ..Default::default()
        });
        assert_eq!(c.validate(), Err(ConfigError::Env("=x".into())));
        c.config = None;
        c.rootfs.kind = "other".into();
        assert!(c.validate().is_err());
    }
}
