//! Build outputs besides the store (`--output`, as `docker build -o` and `buildah build -o`):
//! the final image's filesystem as a directory (`type=local`) or a tar (`type=tar`), or the
//! image as an OCI (`type=oci`) or `docker save` (`type=docker`) archive.
//!
//! The filesystem is the image's layers applied in order (whiteouts honoured) with the files
//! owned by the caller, as docker's local exporter leaves them. The archives are written by
//! `wharf-transport`'s `oci-archive:`/`docker-archive:` destinations, so the layer blobs are
//! copied as stored, never recompressed.

use std::path::{Path, PathBuf};

use wharf_archive::{ApplyOptions, LayerCompression, LayerReader, LayerSource, WriteOptions};
use wharf_oci::{Digest, ImageManifest, Reference, media_type};
use wharf_store::Store;
use wharf_transport::{CopyOptions, Destination, ImageRef, Source};

use crate::error::BuildError;

/// One `--output` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `type=local,dest=DIR`, or `-o DIR`: the root filesystem in a directory.
    Local(PathBuf),
    /// `type=tar,dest=FILE`: the root filesystem as a tar.
    Tar(PathBuf),
    /// `type=oci,dest=FILE`: an OCI image layout in a tar (`oci-archive:`).
    Oci(PathBuf),
    /// `type=docker,dest=FILE`: a `docker load` archive (`docker-archive:`).
    Docker(PathBuf),
}

impl Output {
    /// Parses `type=TYPE,dest=PATH` or a bare `PATH` (a local directory).
    pub fn parse(spec: &str) -> Result<Self, BuildError> {
        let bad = |reason: &str| BuildError::InvalidOutput {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        if spec.is_empty() {
            return Err(bad("empty value"));
        }
        if !spec.contains('=') {
            return Ok(Self::Local(PathBuf::from(spec)));
        }
        let (mut kind, mut dest) = (None, None);
        for field in spec.split(',') {
            match field.split_once('=') {
                Some(("type", v)) => kind = Some(v),
                Some(("dest", v)) if !v.is_empty() => dest = Some(PathBuf::from(v)),
                _ => return Err(bad(&format!("unknown field {field:?}"))),
            }
        }
        let dest = dest.ok_or_else(|| bad("dest=PATH is missing"))?;
        if dest.as_os_str() == "-" {
            return Err(bad(
                "writing to standard output is not supported; name a file",
            ));
        }
        match kind {
            Some("local") => Ok(Self::Local(dest)),
            Some("tar") => Ok(Self::Tar(dest)),
            Some("oci") => Ok(Self::Oci(dest)),
            Some("docker") => Ok(Self::Docker(dest)),
            Some(t) => Err(bad(&format!(
                "unknown type {t:?}; expected local, tar, oci or docker"
            ))),
            None => Err(bad("type= is missing")),
        }
    }

    /// Writes the image whose manifest is `manifest` (in `store`); `tags` name it in a docker
    /// archive.
    pub fn write(
        &self,
        store: &Store,
        manifest: &Digest,
        tags: &[String],
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), BuildError> {
        match self {
            Self::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(BuildError::io("creating", dir))?;
                apply_layers(store, manifest, dir)
            }
            Self::Tar(file) => write_tar(store, manifest, file),
            Self::Oci(file) => copy_image(
                store,
                manifest,
                runtime,
                &ImageRef::OciArchive {
                    path: file.clone(),
                    name: tags
                        .first()
                        .and_then(|t| Reference::parse_local(t).ok()?.tag),
                },
            ),
            Self::Docker(file) => copy_image(
                store,
                manifest,
                runtime,
                &ImageRef::DockerArchive {
                    path: file.clone(),
                    tag: tags
                        .first()
                        .and_then(|t| Reference::parse_local(t).ok())
                        .map(Reference::with_default_tag),
                    index: None,
                },
            ),
        }
    }
}

/// Applies the image's layers, base first, onto `dir`.
fn apply_layers(store: &Store, manifest: &Digest, dir: &Path) -> Result<(), BuildError> {
    let m: ImageManifest = store.read_json(manifest)?;
    let opts = ApplyOptions {
        same_owner: false,
        ..ApplyOptions::default()
    };
    for layer in m.layers() {
        let compression = media_type::layer_compression(layer.media_type().as_ref())
            .unwrap_or(LayerCompression::Gzip);
        let blob = store.open_blob(layer.digest())?;
        let mut reader = LayerReader::new(std::io::BufReader::new(blob), compression)?;
        wharf_archive::apply_layer(&mut reader, dir, &opts)?;
        reader.finish()?;
    }
    Ok(())
}

/// The root filesystem as one uncompressed tar, from a tree assembled under the store's
/// `tmp/` (removed afterwards).
fn write_tar(store: &Store, manifest: &Digest, file: &Path) -> Result<(), BuildError> {
    // Named by this process's lease in `tmp/`, so a concurrent process leaves it alone.
    let tmp = crate::context_source::TempTree::new(store, "output")?;
    apply_layers(store, manifest, tmp.path())?;
    let out = std::fs::File::create(file).map_err(BuildError::io("creating", file))?;
    let mut out = std::io::BufWriter::new(out);
    wharf_archive::write_layer(
        tmp.path(),
        &mut out,
        &WriteOptions {
            source: LayerSource::Plain,
            compression: LayerCompression::None,
            ..WriteOptions::default()
        },
    )?;
    std::io::Write::flush(&mut out).map_err(BuildError::io("writing", file))?;
    Ok(())
}

fn copy_image(
    store: &Store,
    manifest: &Digest,
    runtime: &tokio::runtime::Handle,
    dest: &ImageRef,
) -> Result<(), BuildError> {
    let label = dest.to_string();
    let fail = |source: wharf_transport::TransportError| BuildError::Output {
        dest: label.clone(),
        source: Box::new(source),
    };
    let client = wharf_registry::ClientOptions::default();
    let src = Source::open(
        &ImageRef::Store {
            name: manifest.to_string(),
        },
        &client,
        Some(store),
    )
    .map_err(fail)?;
    let dst = Destination::open(dest, &client, Some(store)).map_err(fail)?;
    runtime
        .block_on(wharf_transport::copy(&src, &dst, &CopyOptions::default()))
        .map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_specs_parse_as_docker_writes_them() {
        assert_eq!(Output::parse("out").unwrap(), Output::Local("out".into()));
        assert_eq!(
            Output::parse("type=local,dest=/x").unwrap(),
            Output::Local("/x".into())
        );
        assert_eq!(
            Output::parse("dest=a.tar,type=tar").unwrap(),
            Output::Tar("a.tar".into())
        );
        assert_eq!(
            Output::parse("type=oci,dest=i.tar").unwrap(),
            Output::Oci("i.tar".into())
        );
        assert_eq!(
            Output::parse("type=docker,dest=d.tar").unwrap(),
            Output::Docker("d.tar".into())
        );
        for bad in [
            "",
            "type=local",
            "type=registry,dest=x",
            "type=tar,dest=-",
            "x=1,dest=y",
        ] {
            assert!(Output::parse(bad).is_err(), "{bad}");
        }
    }
}
