//! `import`: an image made from a root filesystem tarball, like `podman import`. The tarball is
//! applied to a scratch directory first (so hostile entries are refused exactly as for pulled
//! layers) and written back as one deterministic layer.

use std::io::{BufRead, BufReader, Read};

use anyhow::{Context as _, bail};
use wharf_archive::{ApplyOptions, LayerCompression, LayerSource, WriteOptions};
use wharf_oci::config::{ContainerConfig, History, RootFs};
use wharf_oci::{ImageConfig, ImageManifest, MediaType, Platform, media_type};
use wharf_store::Store;

/// What `import` records besides the layer.
#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    /// Dockerfile-style changes: `CMD`, `ENTRYPOINT`, `ENV`, `WORKDIR`, `USER`, `LABEL`, `EXPOSE`,
    /// `STOPSIGNAL`, `VOLUME`.
    pub changes: Vec<String>,
    /// The history comment.
    pub message: Option<String>,
    /// Creation time (RFC 3339); now when absent.
    pub created: Option<String>,
}

/// Parses a JSON array or falls back to the shell form (`sh -c "..."`), as Dockerfiles do.
fn exec_or_shell(value: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(value.trim())
        .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), value.trim().to_owned()])
}

fn apply_change(c: &mut ContainerConfig, change: &str) -> anyhow::Result<()> {
    let (word, value) = change
        .trim()
        .split_once([' ', '='])
        .unwrap_or((change.trim(), ""));
    let value = value.trim();
    match word.to_ascii_uppercase().as_str() {
        "CMD" => c.cmd = Some(exec_or_shell(value)),
        "ENTRYPOINT" => c.entrypoint = Some(exec_or_shell(value)),
        "WORKDIR" => c.working_dir = Some(value.to_owned()),
        "USER" => c.user = Some(value.to_owned()),
        "STOPSIGNAL" => c.stop_signal = Some(value.to_owned()),
        "ENV" => {
            let (k, v) = value
                .split_once(['=', ' '])
                .context("ENV needs KEY=value")?;
            let env = c.env.get_or_insert_with(Vec::new);
            env.retain(|e| e.split('=').next() != Some(k));
            env.push(format!("{k}={}", v.trim()));
        }
        "LABEL" => {
            let (k, v) = value.split_once('=').context("LABEL needs key=value")?;
            c.labels
                .get_or_insert_with(Default::default)
                .insert(k.to_owned(), v.trim_matches('"').to_owned());
        }
        "EXPOSE" => {
            for port in value.split_whitespace() {
                let port = if port.contains('/') {
                    port.to_owned()
                } else {
                    format!("{port}/tcp")
                };
                c.exposed_ports
                    .get_or_insert_with(Default::default)
                    .insert(port, wharf_oci::config::Empty::default());
            }
        }
        "VOLUME" => {
            // A JSON array or space-separated paths, as in a Dockerfile.
            let paths = serde_json::from_str::<Vec<String>>(value)
                .unwrap_or_else(|_| value.split_whitespace().map(str::to_owned).collect());
            for path in paths {
                anyhow::ensure!(
                    path.starts_with('/'),
                    "VOLUME {path:?} must be an absolute path"
                );
                c.volumes
                    .get_or_insert_with(Default::default)
                    .insert(path, wharf_oci::config::Empty::default());
            }
        }
        other => bail!(
            "unsupported --change instruction {other:?} (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)"
        ),
    }
    Ok(())
}

/// What [`import`] made.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The manifest digest.
    pub digest: wharf_oci::Digest,
    /// What the caller should tell the user (device nodes left out when rootless).
    pub warnings: Vec<String>,
}

/// Imports the tarball read from `input` as an image named `names` (may be empty).
pub fn import(
    store: &Store,
    input: impl Read,
    names: &[String],
    opts: &ImportOptions,
) -> anyhow::Result<Imported> {
    let mut warnings = Vec::new();
    let mut container = ContainerConfig {
        env: Some(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ]),
        ..Default::default()
    };
    for change in &opts.changes {
        apply_change(&mut container, change).with_context(|| format!("--change {change:?}"))?;
    }

    let mut input = BufReader::with_capacity(256 << 10, input);
    // Anything that is neither gzip nor zstd is read as a plain tar (and refused as one).
    let compression = wharf_archive::sniff(input.fill_buf().context("reading the tarball")?)
        .unwrap_or(LayerCompression::None);
    let scratch = store.temp_path("import");
    std::fs::create_dir(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let result = (|| {
        let tar = wharf_archive::decompress(input, compression)?;
        // Rootless, mknod is refused: device nodes are left out of the image with a warning,
        // as podman's import (containers/storage) does; as root they are kept.
        let apply = ApplyOptions {
            confine_absolute_names: true,
            devices: wharf_archive::DeviceNodes::CreateOrSkip,
            ..ApplyOptions::default()
        };
        let stats =
            wharf_archive::apply_layer(tar, &scratch, &apply).context("unpacking the tarball")?;
        if stats.skipped_devices.count > 0 {
            warnings.push(format!(
                "left out {} device node(s) that a rootless user cannot create: {}",
                stats.skipped_devices.count,
                stats.skipped_devices.first.join(", ")
            ));
        }
        let mut blob = store.blob_writer(None)?;
        let layer = wharf_archive::write_layer(
            &scratch,
            &mut blob,
            &WriteOptions {
                source: LayerSource::Plain,
                ..WriteOptions::default()
            },
        )?;
        blob.commit()?;
        anyhow::Ok(layer)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    let layer = result?;

    let created = opts
        .created
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let host = Platform::host();
    let config = ImageConfig {
        created: Some(created.clone()),
        architecture: host.architecture,
        variant: host.variant,
        os: host.os,
        config: Some(container),
        rootfs: RootFs {
            diff_ids: vec![layer.diff_id.clone()],
            ..RootFs::default()
        },
        history: vec![History {
            created: Some(created),
            created_by: Some("/bin/sh -c #(nop) ADD file:import in /".into()),
            comment: opts.message.clone(),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    config.validate()?;
    let config_desc = store.put_blob_bytes(media_type::OCI_CONFIG, &config.to_vec()?)?;
    let layer_desc = wharf_oci::Descriptor::new(
        MediaType::from(media_type::OCI_LAYER_GZIP),
        layer.size,
        layer.digest,
    );
    let manifest: ImageManifest = wharf_oci::oci_spec::image::ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config_desc)
        .layers(vec![layer_desc])
        .build()
        .context("building the manifest")?;
    let bytes = wharf_oci::manifest::to_bytes(&manifest)?;
    let desc = store.commit_image(&bytes, media_type::OCI_MANIFEST, names)?;
    Ok(Imported {
        digest: desc.digest().clone(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_follow_dockerfile_forms() {
        let mut c = ContainerConfig::default();
        apply_change(&mut c, r#"CMD ["sh", "-c", "echo hi"]"#).unwrap();
        apply_change(&mut c, "ENTRYPOINT /bin/app --flag").unwrap();
        apply_change(&mut c, "ENV A=1").unwrap();
        apply_change(&mut c, "ENV A=2").unwrap();
        apply_change(&mut c, "EXPOSE 80 53/udp").unwrap();
        apply_change(&mut c, "LABEL k=\"v\"").unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/app --flag"]);
        assert_eq!(c.env.unwrap(), ["A=2"]);
        assert_eq!(
            c.exposed_ports.unwrap().keys().cloned().collect::<Vec<_>>(),
            ["53/udp", "80/tcp"]
        );
        assert_eq!(c.labels.unwrap()["k"], "v");
        let mut c = ContainerConfig::default();
        apply_change(&mut c, "VOLUME /data /cache").unwrap();
        apply_change(&mut c, r#"VOLUME ["/logs"]"#).unwrap();
        assert_eq!(
            c.volumes
                .clone()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["/cache", "/data", "/logs"]
        );
        assert!(apply_change(&mut c, "VOLUME data").is_err());
        assert!(apply_change(&mut ContainerConfig::default(), "RUN x").is_err());
    }
}
