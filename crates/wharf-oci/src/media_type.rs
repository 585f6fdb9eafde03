//! Media types of OCI and Docker v2 schema 2 content, and what each one means for wharf.

pub use oci_spec::image::MediaType;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const OCI_LAYER_NONDIST_TAR: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar";
pub const OCI_LAYER_NONDIST_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const OCI_LAYER_NONDIST_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
pub const OCI_EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Schema 1 manifests are only recognised to be refused with a clear message.
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_MANIFEST_V1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The manifest media types wharf accepts from registries, in `Accept` header order.
pub const ACCEPTED_MANIFESTS: &[&str] = &[
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// The compression of a layer blob, derived from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerCompression {
    None,
    Gzip,
    Zstd,
}

/// Which family a manifest-like media type belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    OciManifest,
    OciIndex,
    DockerManifest,
    DockerManifestList,
}

impl ManifestKind {
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            OCI_MANIFEST => Some(Self::OciManifest),
            OCI_INDEX => Some(Self::OciIndex),
            DOCKER_MANIFEST => Some(Self::DockerManifest),
            DOCKER_MANIFEST_LIST => Some(Self::DockerManifestList),
            _ => None,
        }
    }

    pub fn is_index(self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerManifestList)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::OciManifest => OCI_MANIFEST,
            Self::OciIndex => OCI_INDEX,
            Self::DockerManifest => DOCKER_MANIFEST,
            Self::DockerManifestList => DOCKER_MANIFEST_LIST,
        }
    }
}

/// The compression of a layer media type, or `None` when it is not a layer type wharf knows.
pub fn layer_compression(media_type: &str) -> Option<LayerCompression> {
    match media_type {
        OCI_LAYER_TAR | OCI_LAYER_NONDIST_TAR | DOCKER_LAYER_TAR => Some(LayerCompression::None),
        OCI_LAYER_GZIP | OCI_LAYER_NONDIST_GZIP | DOCKER_LAYER_GZIP | DOCKER_FOREIGN_LAYER => {
            Some(LayerCompression::Gzip)
        }
        OCI_LAYER_ZSTD | OCI_LAYER_NONDIST_ZSTD | DOCKER_LAYER_ZSTD => Some(LayerCompression::Zstd),
        _ => None,
    }
}

/// Whether a layer media type is foreign / non-distributable (never pushed by default).
pub fn is_foreign_layer(media_type: &str) -> bool {
    matches!(
        media_type,
        DOCKER_FOREIGN_LAYER
            | OCI_LAYER_NONDIST_TAR
            | OCI_LAYER_NONDIST_GZIP
            | OCI_LAYER_NONDIST_ZSTD
    )
}

/// The layer media type for a compression in the OCI or the Docker family.
pub fn layer_media_type(compression: LayerCompression, docker: bool) -> &'static str {
    match (compression, docker) {
        (LayerCompression::None, false) => OCI_LAYER_TAR,
        (LayerCompression::Gzip, false) => OCI_LAYER_GZIP,
        (LayerCompression::Zstd, false) => OCI_LAYER_ZSTD,
        (LayerCompression::None, true) => DOCKER_LAYER_TAR,
        (LayerCompression::Gzip, true) => DOCKER_LAYER_GZIP,
        (LayerCompression::Zstd, true) => DOCKER_LAYER_ZSTD,
    }
}

/// Converts a layer media type between the OCI and Docker families, keeping its compression.
/// Foreign layers keep their type: they cannot be re-expressed.
pub fn convert_layer_media_type(media_type: &str, to_docker: bool) -> Option<&'static str> {
    if is_foreign_layer(media_type) {
        return None;
    }
    layer_compression(media_type).map(|c| layer_media_type(c, to_docker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_types_convert_both_ways() {
        for c in [
            LayerCompression::None,
            LayerCompression::Gzip,
            LayerCompression::Zstd,
        ] {
            let oci = layer_media_type(c, false);
            let docker = layer_media_type(c, true);
            assert_eq!(convert_layer_media_type(oci, true), Some(docker));
            assert_eq!(convert_layer_media_type(docker, false), Some(oci));
            assert_eq!(layer_compression(oci), Some(c));
        }
        assert_eq!(convert_layer_media_type(DOCKER_FOREIGN_LAYER, false), None);
        assert!(
            ManifestKind::from_media_type(DOCKER_MANIFEST_LIST)
                .unwrap()
                .is_index()
        );
    }
}
