//! `import`: an image made from a root filesystem tarball, like `podman import`. The tarball is
//! applied to a scratch directory first (so hostile entries are refused exactly as for pulled
//! layers) and written back as one deterministic layer.

use std::io::{BufRead, BufReader, Read};

use wharf_archive::{ApplyOptions, LayerCompression, LayerSource, WriteOptions};
use wharf_dockerfile::instruction::Instruction;
use wharf_oci::config::{ContainerConfig, History, RootFs};
use wharf_oci::{ImageConfig, ImageManifest, MediaType, Platform, media_type};
use wharf_store::Store;

use crate::config::{self, StageFlags};
use crate::error::BuildError;

/// What `import` records besides the layer.
#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    /// Dockerfile instructions applied to the config (podman's `--change`): `CMD`,
    /// `ENTRYPOINT`, `ENV`, `EXPOSE`, `LABEL`, `ONBUILD`, `STOPSIGNAL`, `USER`, `VOLUME`,
    /// `WORKDIR`.
    pub changes: Vec<String>,
    /// The history comment.
    pub message: Option<String>,
    /// Creation time (RFC 3339); now when absent.
    pub created: Option<String>,
}

/// The instructions `--change` takes, as podman import and buildah commit take them.
const CHANGES: &str =
    "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";

/// Applies one `--change` to `image` with the Dockerfile's own parser and config rules (one
/// meaning of `ENV`, `LABEL`, `CMD`… for builds and imports). podman also takes `WORD=value`.
fn apply_change(image: &mut ImageConfig, change: &str) -> Result<(), BuildError> {
    let bad = |reason: String| BuildError::InvalidFlag {
        flag: "change",
        value: change.to_owned(),
        reason,
    };
    let text = change.trim();
    let line = match (text.find('='), text.find(char::is_whitespace)) {
        (Some(eq), ws) if ws.is_none_or(|w| eq < w) => {
            format!("{} {}", &text[..eq], &text[eq + 1..])
        }
        _ => text.to_owned(),
    };
    // Parsed and expanded as the line of a stage on `scratch`, so quoting and `$VAR` mean
    // what they mean in a Dockerfile (the image's ENV so far is the environment).
    let df = wharf_dockerfile::parse(&format!("FROM scratch\n{line}\n"))
        .map_err(|e| bad(e.to_string()))?;
    let plan =
        wharf_dockerfile::stage::plan(&df, &wharf_dockerfile::stage::BuildOptions::default())
            .map_err(|e| bad(e.to_string()))?;
    let env: Vec<(String, String)> = image
        .config
        .as_ref()
        .and_then(|c| c.env.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|e| e.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let expanded = plan.expand(0, &env).map_err(|e| bad(e.to_string()))?;
    let [one] = expanded.instructions.as_slice() else {
        return Err(bad("expected exactly one instruction".to_owned()));
    };
    let ins = &one.located.instruction;
    let allowed = matches!(
        ins,
        Instruction::Cmd(_)
            | Instruction::Entrypoint(_)
            | Instruction::Env(_)
            | Instruction::Expose(_)
            | Instruction::Label(_)
            | Instruction::Onbuild(_)
            | Instruction::StopSignal(_)
            | Instruction::User(_)
            | Instruction::Volume(_)
            | Instruction::Workdir(_)
    );
    if !allowed {
        return Err(bad(format!(
            "unsupported instruction; use one of {CHANGES}"
        )));
    }
    if let Instruction::Volume(paths) = ins
        && let Some(p) = paths.iter().find(|p| !p.starts_with('/'))
    {
        return Err(bad(format!("VOLUME {p:?} must be an absolute path")));
    }
    // Values are words as in a Dockerfile: quotes removed and `$VAR` expanded with the
    // image's ENV, which only the planner's expansion does.
    let env: Vec<(String, String)> = image
        .config
        .as_ref()
        .and_then(|c| c.env.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let staged = wharf_dockerfile::parse(&format!("FROM scratch\n{line}"))
        .and_then(|df| {
            wharf_dockerfile::stage::plan(&df, &wharf_dockerfile::stage::BuildOptions::default())
        })
        .and_then(|plan| plan.expand(0, &env))
        .map_err(|e| bad(e.to_string()))?;
    let [one] = staged.instructions.as_slice() else {
        return Err(bad("expected exactly one instruction".to_owned()));
    };
    config::apply(image, &mut StageFlags::default(), &one.located.instruction);
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
) -> Result<Imported, BuildError> {
    let mut warnings = Vec::new();
    let mut changed = ImageConfig {
        config: Some(ContainerConfig {
            env: Some(vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ]),
            ..Default::default()
        }),
        ..ImageConfig::default()
    };
    for change in &opts.changes {
        apply_change(&mut changed, change)?;
    }
    let container = changed.config.unwrap_or_default();

    let mut input = BufReader::with_capacity(256 << 10, input);
    // Anything that is neither gzip nor zstd is read as a plain tar (and refused as one).
    let head = input
        .fill_buf()
        .map_err(BuildError::io("reading", "the tarball"))?;
    let compression = wharf_archive::sniff(head).unwrap_or(LayerCompression::None);
    let scratch = store.temp_path("import");
    std::fs::create_dir(&scratch).map_err(BuildError::io("creating", &scratch))?;
    let result = (|| {
        let tar = wharf_archive::decompress(input, compression)?;
        // Rootless, mknod is refused: device nodes are left out of the image with a warning,
        // as podman's import (containers/storage) does; as root they are kept.
        let apply = ApplyOptions {
            confine_absolute_names: true,
            devices: wharf_archive::DeviceNodes::CreateOrSkip,
            ..ApplyOptions::default()
        };
        let stats = wharf_archive::apply_layer(tar, &scratch, &apply)?;
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
        Ok::<_, BuildError>(layer)
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
    let config_desc = store.put_blob_bytes(
        media_type::OCI_CONFIG,
        &config.to_vec().map_err(BuildError::Serialize)?,
    )?;
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
        .build()?;
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

    fn changed(changes: &[&str]) -> Result<ContainerConfig, BuildError> {
        let mut image = ImageConfig::default();
        for c in changes {
            apply_change(&mut image, c)?;
        }
        Ok(image.config.unwrap_or_default())
    }

    #[test]
    fn changes_follow_dockerfile_forms() {
        let c = changed(&[
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /bin/app --flag",
            "ENV A=1",
            "ENV A=2",
            "EXPOSE 80 53/udp",
            "LABEL k=\"v\"",
            "USER=app",
        ])
        .unwrap();
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/bin/app --flag"]);
        assert_eq!(c.env.unwrap(), ["A=2"]);
        assert_eq!(
            c.exposed_ports.unwrap().keys().cloned().collect::<Vec<_>>(),
            ["53/udp", "80/tcp"]
        );
        assert_eq!(c.labels.unwrap()["k"], "v");
        assert_eq!(c.user.as_deref(), Some("app"));
        // CMD set before ENTRYPOINT is kept, as in a Dockerfile stage.
        let c = changed(&[r#"CMD ["sh"]"#]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh"]);
        let c = changed(&["VOLUME /data /cache", r#"VOLUME ["/logs"]"#]).unwrap();
        assert_eq!(
            c.volumes
                .clone()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["/cache", "/data", "/logs"]
        );
        assert!(changed(&["VOLUME data"]).is_err());
        assert!(changed(&["RUN x"]).is_err());
        assert!(changed(&["ENV"]).is_err());
    }
}
