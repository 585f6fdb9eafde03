//! Image listing, inspection and removal shared by `kiln` and `berth` (`images`, `inspect`,
//! `rmi`, `tag`), with buildah's and podman's output shapes.

use std::io::Write;

use anyhow::Context as _;
use serde_json::{Value, json};
use wharf_oci::manifest::RawManifest;
use wharf_oci::{Digest, ImageConfig};
use wharf_store::{ImageRecord, Store, StoreError};

/// One row of `images`: an image under one of its names.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub repository: String,
    pub tag: String,
    /// The config digest: what docker, podman and buildah call the image ID.
    pub id: Digest,
    pub digest: Digest,
    pub created: String,
    /// Bytes of the manifest, config and layer blobs as stored (compressed).
    pub size: u64,
    pub names: Vec<String>,
}

fn split_name(name: Option<&str>) -> (String, String) {
    let Some(name) = name else {
        return ("<none>".into(), "<none>".into());
    };
    let name = name.split('@').next().unwrap_or(name);
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(i) => (
            name[..slash + i].to_owned(),
            name[slash + i + 1..].to_owned(),
        ),
        None => (name.to_owned(), "<none>".into()),
    }
}

/// The parsed manifest and config of an image record (for an index, its first manifest).
pub fn load(store: &Store, record: &ImageRecord) -> Result<(RawManifest, ImageConfig), StoreError> {
    let mut raw = read_manifest(
        store,
        record.digest(),
        record.manifest.media_type().as_ref(),
    )?;
    if let Some(first) = raw.index().and_then(|i| i.manifests().first()).cloned() {
        raw = read_manifest(store, first.digest(), first.media_type().as_ref())?;
    }
    let config = match raw.image() {
        Some(m) => store.read_json::<ImageConfig>(m.config().digest())?,
        None => ImageConfig::default(),
    };
    Ok((raw, config))
}

fn read_manifest(
    store: &Store,
    digest: &Digest,
    media_type: &str,
) -> Result<RawManifest, StoreError> {
    let bytes = store.read_small(digest)?;
    RawManifest::parse(bytes, Some(media_type)).map_err(|_| StoreError::UnsupportedMediaType {
        media_type: media_type.to_owned(),
    })
}

/// Every image in the store, one summary per name (nameless images once).
pub fn summaries(store: &Store) -> Result<Vec<ImageSummary>, StoreError> {
    let records = store.list_images()?;
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        let (raw, config) = match load(store, r) {
            Ok(loaded) => loaded,
            // One damaged image (a blob changed on disk) must not hide the others: it is
            // listed from its index entry alone; using it fails naming the damage, and
            // `kiln system check` reports it.
            Err(StoreError::CorruptBlob { .. }) => {
                let (repository, tag) = split_name(r.name.as_deref());
                out.push(ImageSummary {
                    repository,
                    tag,
                    id: r.digest().clone(),
                    digest: r.digest().clone(),
                    created: String::new(),
                    size: r.manifest.size(),
                    names: r.name.iter().cloned().collect(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let size = raw.bytes.len() as u64
            + raw.image().map_or(0, |m| {
                m.config().size()
                    + m.layers()
                        .iter()
                        .map(wharf_oci::Descriptor::size)
                        .sum::<u64>()
            });
        let (repository, tag) = split_name(r.name.as_deref());
        let names = records
            .iter()
            .filter(|o| o.digest() == r.digest())
            .filter_map(|o| o.name.clone())
            .collect();
        out.push(ImageSummary {
            repository,
            tag,
            id: raw
                .image()
                .map_or_else(|| r.digest().clone(), |m| m.config().digest().clone()),
            digest: r.digest().clone(),
            created: config.created.unwrap_or_default(),
            size,
            names,
        });
    }
    Ok(out)
}

/// The short image ID shown in tables: 12 hex characters.
pub fn short_id(id: &Digest) -> String {
    id.digest().chars().take(12).collect()
}

/// JSON for `images --format json` (buildah's field names).
pub fn summaries_json(list: &[ImageSummary]) -> Value {
    Value::Array(
        list.iter()
            .map(|s| {
                json!({
                    "id": s.id.digest(),
                    "names": s.names,
                    "repository": s.repository,
                    "tag": s.tag,
                    "digest": s.digest.to_string(),
                    "created": s.created,
                    "size": s.size,
                })
            })
            .collect(),
    )
}

/// The document `inspect` prints: the image's names, IDs, manifest and config.
pub fn inspect_json(store: &Store, input: &str) -> Result<Value, StoreError> {
    let record = store.resolve(input)?;
    let (raw, config) = load(store, &record)?;
    let manifest: Value =
        serde_json::from_slice(&raw.bytes).map_err(|source| StoreError::Json {
            what: format!("manifest {}", raw.digest),
            source,
        })?;
    let names = store.image_names(record.digest())?;
    // The signatures kept with the image (`kiln build --sign-by…`), which `kiln push` carries.
    let signatures: Vec<Value> = store
        .referrers(record.digest())?
        .iter()
        .filter_map(|d| {
            let kind = match d.artifact_type().as_ref()?.to_string().as_str() {
                wharf_sign::attach::REFERRER_ARTIFACT_TYPE => "sigstore",
                wharf_sign::simple::STORED_ARTIFACT_TYPE => "simple-signing",
                _ => return None,
            };
            Some(json!({"Type": kind, "Digest": d.digest().to_string()}))
        })
        .collect();
    Ok(json!({
        "Id": raw.image().map_or_else(|| record.digest().to_string(), |m| m.config().digest().digest().to_owned()),
        "Digest": record.digest().to_string(),
        "Names": names,
        "ManifestType": raw.kind.media_type(),
        "Manifest": manifest,
        "Config": config,
        "Signatures": signatures,
    }))
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format: `json`, `table`, or a Go template such as `{{.Repository}}:{{.Tag}}`
    #[arg(long)]
    pub format: Option<String>,
    /// Output as JSON (same as --format json)
    #[arg(long)]
    pub json: bool,
    /// Print only image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate image IDs
    #[arg(long)]
    pub no_trunc: bool,
}

/// `images`: prints the store's images to `out` as a table, JSON, IDs or a template.
pub fn list(store: &Store, args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let list = summaries(store)?;
    let id = |s: &ImageSummary| {
        if args.no_trunc {
            s.id.to_string()
        } else {
            short_id(&s.id)
        }
    };
    match args.format.as_deref() {
        _ if args.json || args.format.as_deref() == Some("json") => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&summaries_json(&list))?
            )?;
        }
        _ if args.quiet => {
            let mut seen = std::collections::BTreeSet::new();
            for s in list.iter().filter(|s| seen.insert(s.id.to_string())) {
                writeln!(out, "{}", id(s))?;
            }
        }
        Some(t) if t != "table" => {
            for (s, v) in list
                .iter()
                .zip(summaries_json(&list).as_array().into_iter().flatten())
            {
                let mut v = v.clone();
                v["Repository"] = s.repository.clone().into();
                v["Tag"] = s.tag.clone().into();
                v["ID"] = id(s).into();
                v["Digest"] = s.digest.to_string().into();
                v["Size"] = crate::human::size(s.size).into();
                v["CreatedAt"] = s.created.clone().into();
                writeln!(out, "{}", crate::template::render(t, &v)?)?;
            }
        }
        _ => {
            let now = chrono::Utc::now();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.repository.clone(),
                        s.tag.clone(),
                        id(s),
                        crate::human::age(&s.created, now),
                        crate::human::size(s.size),
                    ]
                })
                .collect();
            write!(
                out,
                "{}",
                crate::output::table(&["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], &rows)
            )?;
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct RmiArgs {
    /// Image names, IDs or digests
    #[arg(required_unless_present_any = ["all", "prune"])]
    pub images: Vec<String>,
    /// Remove every image
    #[arg(short, long)]
    pub all: bool,
    /// Remove dangling (nameless) images
    #[arg(short, long)]
    pub prune: bool,
    /// Remove images even when containers use them (their layers stay until the containers go)
    #[arg(short, long)]
    pub force: bool,
}

/// The `rmi` command of kiln and berth: [`rmi`] to standard output, each failure printed on
/// standard error, exit status 1 when any image stayed (podman's and buildah's).
pub fn rmi_command(store: &Store, args: &RmiArgs) -> anyhow::Result<std::process::ExitCode> {
    let failed = rmi(store, args, &mut std::io::stdout().lock())?;
    for e in &failed {
        let _ = writeln!(std::io::stderr(), "Error: {}", crate::run::chain_once(e));
    }
    Ok(if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// `rmi`: removes images, printing the names that went to `out`; returns the failures, one per
/// image that could not be removed, for the caller to report.
pub fn rmi(
    store: &Store,
    args: &RmiArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Vec<anyhow::Error>> {
    let mut targets = args.images.clone();
    if args.all {
        let mut seen = std::collections::BTreeSet::new();
        for r in store.list_images()? {
            if seen.insert(r.digest().to_string()) {
                targets.push(r.digest().to_string());
            }
        }
    }
    if args.prune {
        for d in store.prune_dangling()? {
            writeln!(out, "{}", d.digest())?;
        }
    }
    let mut failed = Vec::new();
    for t in &targets {
        if !args.force {
            match store.image_users(t) {
                Ok(users) if !users.is_empty() => {
                    failed.push(anyhow::anyhow!(
                        "image {t} is in use by container {}: remove the container first, or \
                         pass --force",
                        users.join(", ")
                    ));
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    failed.push(anyhow::Error::new(e).context(format!("removing image {t}")));
                    continue;
                }
            }
        }
        match store
            .remove_image(t)
            .with_context(|| format!("removing image {t}"))
        {
            Ok(names) => {
                for n in names {
                    writeln!(out, "untagged: {n}")?;
                }
            }
            Err(e) => failed.push(e),
        }
    }
    store.gc().context("freeing blobs of removed images")?;
    Ok(failed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_split_into_repository_and_tag() {
        assert_eq!(
            super::split_name(Some("localhost:5000/a/b:v1")),
            ("localhost:5000/a/b".into(), "v1".into())
        );
        assert_eq!(
            super::split_name(Some("localhost:5000/a")),
            ("localhost:5000/a".into(), "<none>".into())
        );
        assert_eq!(super::split_name(None), ("<none>".into(), "<none>".into()));
    }
}
