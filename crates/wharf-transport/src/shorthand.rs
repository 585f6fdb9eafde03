//! The references `pull` and `push` take (buildah's and podman's syntax): a transport reference,
//! or a bare image name meaning `docker://`.

use crate::error::{Result, TransportError};
use crate::reference::ImageRef;

const TRANSPORTS: &[&str] = &[
    "docker:",
    "oci:",
    "oci-archive:",
    "docker-archive:",
    "dir:",
    "store:",
    "containers-storage:",
];

/// Whether `input` starts with a transport (`oci:DIR`, `docker://…`, …) rather than being a bare
/// image name.
pub fn has_transport(input: &str) -> bool {
    TRANSPORTS.iter().any(|t| input.starts_with(t))
}

/// Parses `input` as a transport reference when it starts with a known transport, else as a
/// `docker://` image name (`busybox` is `docker.io/library/busybox:latest`).
pub fn parse_or_docker(input: &str) -> Result<ImageRef> {
    if has_transport(input) {
        ImageRef::parse(input)
    } else {
        ImageRef::parse(&format!("docker://{input}"))
    }
}

/// What `pull SOURCE` reads and the store name it records: a registry image keeps its full
/// name; an image from a file transport is named after its reference or file.
pub fn pull_target(input: &str) -> Result<(ImageRef, String)> {
    let src = parse_or_docker(input)?;
    let name = match &src {
        ImageRef::Docker(r) => r.to_string(),
        ImageRef::Store { .. } => {
            return Err(TransportError::BadReference {
                input: input.to_owned(),
                why: "the image is already in the store".into(),
            });
        }
        ImageRef::Oci { path, name } | ImageRef::OciArchive { path, name } => {
            local_name(name.as_deref(), path)
        }
        ImageRef::DockerArchive { path, tag, .. } => match tag {
            Some(t) => t.to_string(),
            None => local_name(None, path),
        },
        ImageRef::Dir { path } => local_name(None, path),
    };
    Ok((src, name))
}

fn local_name(name: Option<&str>, path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = if stem.is_empty() {
        "image".to_owned()
    } else {
        stem
    };
    match name {
        Some(n) if n.contains('/') || n.contains(':') => n.to_owned(),
        Some(tag) => format!("localhost/{stem}:{tag}"),
        None => format!("localhost/{stem}:latest"),
    }
}

/// The destination of `push IMAGE [DEST]`: DEST in any transport (bare names are `docker://`),
/// or `docker://IMAGE` when absent.
pub fn push_target(image: &str, dest: Option<&str>) -> Result<ImageRef> {
    parse_or_docker(dest.unwrap_or(image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_are_registry_images() {
        let (src, name) = pull_target("busybox").unwrap();
        assert_eq!(src.to_string(), "docker://docker.io/library/busybox:latest");
        assert_eq!(name, "docker.io/library/busybox:latest");
        let (_, name) = pull_target("oci:/tmp/My Image:v1").unwrap();
        assert_eq!(name, "localhost/my-image:v1");
        let dst = push_target("localhost/app:1", Some("oci:/tmp/x:1")).unwrap();
        assert!(matches!(dst, ImageRef::Oci { .. }));
        let dst = push_target("127.0.0.1:5000/app:1", None).unwrap();
        assert_eq!(dst.to_string(), "docker://127.0.0.1:5000/app:1");
        assert!(pull_target("store:x").is_err());
    }
}
