//! Image metadata given on the command line rather than in the Dockerfile: `--label` (set in
//! the image config, over the Dockerfile's LABELs, as buildah does), `--annotation` (set on the
//! image manifest; the Docker v2s2 format has no annotations, so they are dropped there with a
//! warning, as buildah does), and `--build-arg-file` (buildah's format).

use std::collections::BTreeMap;
use std::path::Path;

use wharf_oci::{ImageConfig, ImageManifest};

use crate::error::BuildError;

/// Sets `labels` in the image config, replacing values of the same key.
pub(crate) fn apply_labels(image: &mut ImageConfig, labels: &BTreeMap<String, String>) {
    if labels.is_empty() {
        return;
    }
    let c = image.config.get_or_insert_with(Default::default);
    let l = c.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in labels {
        l.insert(k.clone(), v.clone());
    }
}

/// `--env`, `--unsetenv`, `--unsetlabel` and `--omit-history` on the committed image, as
/// buildah applies them: `KEY=VALUE` entries replace the key in place or are appended, unset
/// keys and labels are removed (inherited ones too), and the history can be left out.
pub(crate) fn apply_edits(image: &mut ImageConfig, edits: &ConfigEdits) {
    let c = image.config.get_or_insert_with(Default::default);
    if !edits.env.is_empty() || !edits.unset_env.is_empty() {
        let env = c.env.get_or_insert_with(Vec::new);
        for kv in &edits.env {
            let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
            match env
                .iter_mut()
                .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
            {
                Some(e) => e.clone_from(kv),
                None => env.push(kv.clone()),
            }
        }
        env.retain(|e| {
            let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            !edits.unset_env.iter().any(|u| u == key)
        });
    }
    if let Some(l) = c.labels.as_mut() {
        l.retain(|k, _| !edits.unset_labels.contains(k));
    }
    if edits.omit_history {
        image.history.clear();
    }
}

/// Changes to the committed image's config given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConfigEdits {
    /// `--env KEY=VALUE`, in order.
    pub env: Vec<String>,
    /// `--unsetenv KEY`.
    pub unset_env: Vec<String>,
    /// `--unsetlabel KEY`.
    pub unset_labels: Vec<String>,
    /// `--omit-history`: an empty history.
    pub omit_history: bool,
}

/// Sets `annotations` on an OCI manifest.
pub(crate) fn apply_annotations(
    manifest: &mut ImageManifest,
    annotations: &BTreeMap<String, String>,
) {
    if annotations.is_empty() {
        return;
    }
    let mut map = manifest.annotations().clone().unwrap_or_default();
    for (k, v) in annotations {
        map.insert(k.clone(), v.clone());
    }
    manifest.set_annotations(Some(map));
}

/// Reads a `--build-arg-file`: one `KEY=VALUE` (or `KEY`, taken from the environment) per
/// line, as `--build-arg` takes them; blank lines and lines starting with `#` are skipped.
pub fn read_build_arg_file(path: &Path) -> Result<Vec<String>, BuildError> {
    let text = std::fs::read_to_string(path).map_err(BuildError::io("reading", path))?;
    parse_build_arg_file(&text).map_err(|(line, reason)| BuildError::BuildArgFile {
        path: path.to_owned(),
        line,
        reason,
    })
}

fn parse_build_arg_file(text: &str) -> Result<Vec<String>, (usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('=') {
            return Err((n + 1, format!("{line:?} has no name")));
        }
        out.push(line.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_files_skip_comments_and_blank_lines() {
        let got = parse_build_arg_file("# versions\nA=1\n\n  B=two words  \nHOME\n").unwrap();
        assert_eq!(got, ["A=1", "B=two words", "HOME"]);
        assert_eq!(parse_build_arg_file("A=1\n=x\n").unwrap_err().0, 2);
    }

    #[test]
    fn labels_override_and_annotations_merge() {
        let mut image = ImageConfig::default();
        let mut dockerfile = BTreeMap::new();
        dockerfile.insert("a".to_owned(), "from LABEL".to_owned());
        dockerfile.insert("b".to_owned(), "kept".to_owned());
        apply_labels(&mut image, &dockerfile);
        let mut flags = BTreeMap::new();
        flags.insert("a".to_owned(), "from --label".to_owned());
        apply_labels(&mut image, &flags);
        let l = image.config.unwrap().labels.unwrap();
        assert_eq!(l["a"], "from --label");
        assert_eq!(l["b"], "kept");
    }
}
