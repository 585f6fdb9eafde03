//! Container Device Interface (CDI) devices: `--device vendor.com/class=name` and the
//! Dockerfile's `RUN --device=vendor.com/class=name`, as podman, buildah and BuildKit resolve
//! them.
//!
//! Specs are JSON or YAML files (`*.json`, `*.yaml`, `*.yml`) in the spec directories —
//! `/etc/cdi`, then `/var/run/cdi` (a later directory wins for a device defined twice, as in
//! the CDI library), or the caller's `--cdi-spec-dir`s — with `cdiVersion` 0.3.0 to 0.8.0.
//! A device's `containerEdits` and its spec's are applied: `env`, `deviceNodes` (bound from
//! the host, as every device of the sandbox is: no `mknod` in a user namespace), `mounts`
//! (binds). `hooks` would run host programs at container set-up, which this sandbox has no
//! stage for: a device with hooks is refused naming the hook, never applied in part.
//! `additionalGids` and `intelRdt` are refused the same way.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where podman and buildah read CDI specs by default (later directories take precedence).
pub const DEFAULT_SPEC_DIRS: [&str; 2] = ["/etc/cdi", "/var/run/cdi"];

/// A spec larger than this is not read (specs are a few KiB).
const MAX_SPEC_SIZE: u64 = 4 << 20;

/// Errors of CDI resolution.
#[derive(Debug, thiserror::Error)]
pub enum CdiError {
    #[error(
        "invalid CDI device name {name:?}: expected VENDOR/CLASS=NAME (for example \
         vendor.com/gpu=0)"
    )]
    InvalidName { name: String },

    #[error(
        "unknown CDI device {name}: no spec in {dirs} defines it{problems}; hint: write its \
         spec there, or name the directory with --cdi-spec-dir"
    )]
    Unknown {
        name: String,
        dirs: String,
        /// The specs that could not be read, as `" (specs skipped: …)"`, or empty.
        problems: String,
    },

    #[error("CDI spec {path}: {reason}")]
    InvalidSpec { path: PathBuf, reason: String },

    #[error(
        "CDI device {name} (spec {path}) asks for {what}, which wharf cannot apply; hint: \
         give the device nodes with --device HOST[:CONTAINER] instead"
    )]
    Unsupported {
        name: String,
        path: PathBuf,
        what: String,
    },
}

/// Whether `value` names a CDI device (`vendor/class=name`) rather than a host path.
pub fn is_cdi_name(value: &str) -> bool {
    parse_name(value).is_some()
}

/// `vendor/class=name` as `(kind, name)`, checked as the CDI library does (vendor: letters,
/// digits, `.`, `-`, `_`, starting with a letter; class: letters, digits, `-`, `_`; name:
/// letters, digits, `.`, `-`, `_`, `:`).
fn parse_name(value: &str) -> Option<(&str, &str)> {
    let (kind, name) = value.split_once('=')?;
    let (vendor, class) = kind.split_once('/')?;
    let ok = |s: &str, extra: &[char]| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    };
    let vendor_ok =
        ok(vendor, &['.', '-', '_']) && vendor.starts_with(|c: char| c.is_ascii_alphabetic());
    (vendor_ok && ok(class, &['-', '_']) && ok(name, &['.', '-', '_', ':'])).then_some((kind, name))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    cdi_version: String,
    kind: String,
    #[serde(default)]
    devices: Vec<SpecDevice>,
    #[serde(default)]
    container_edits: Option<Edits>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecDevice {
    name: String,
    #[serde(default)]
    container_edits: Option<Edits>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Edits {
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    device_nodes: Vec<DeviceNode>,
    #[serde(default)]
    mounts: Vec<SpecMount>,
    #[serde(default)]
    hooks: Vec<Hook>,
    #[serde(default)]
    additional_gids: Vec<u32>,
    #[serde(default)]
    intel_rdt: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceNode {
    path: String,
    #[serde(default)]
    host_path: Option<String>,
    #[serde(default)]
    permissions: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecMount {
    host_path: String,
    container_path: String,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hook {
    hook_name: String,
    path: String,
}

/// What one CDI device adds to a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceEdits {
    /// `KEY=VALUE` entries.
    pub env: Vec<String>,
    /// Bind mounts: device nodes (host node → container path) and the spec's mounts.
    pub mounts: Vec<oci_spec::runtime::Mount>,
}

/// Reads the specs in `dirs` (missing directories are skipped) and returns the edits of the
/// device `name` (`vendor/class=name`).
///
/// # Errors
/// [`CdiError`]: a malformed name, an unknown device (naming the directories read), a spec
/// that does not parse or names a version outside 0.3.0–0.8.0, or edits wharf cannot apply.
pub fn resolve(name: &str, dirs: &[PathBuf]) -> Result<DeviceEdits, CdiError> {
    let (kind, dev) = parse_name(name).ok_or_else(|| CdiError::InvalidName {
        name: name.to_owned(),
    })?;
    // The last directory defining the device wins, as in the CDI library's priorities.
    let mut found = None;
    // A spec that does not parse is skipped (another vendor's broken file must not hide
    // this device), and named if the device is not found.
    let mut problems = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
            })
            .collect();
        files.sort();
        for path in files {
            let spec = match read_spec(&path) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            if spec.kind != kind {
                continue;
            }
            if let Some(d) = spec.devices.iter().find(|d| d.name == dev) {
                found = Some((
                    path.clone(),
                    spec.container_edits.clone().unwrap_or_default(),
                    d.container_edits.clone().unwrap_or_default(),
                ));
            }
        }
    }
    let Some((path, spec_edits, dev_edits)) = found else {
        return Err(CdiError::Unknown {
            name: name.to_owned(),
            dirs: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            problems: if problems.is_empty() {
                String::new()
            } else {
                format!(" (specs skipped: {})", problems.join("; "))
            },
        });
    };
    let mut out = DeviceEdits::default();
    for edits in [&spec_edits, &dev_edits] {
        apply(name, &path, edits, &mut out)?;
    }
    Ok(out)
}

fn read_spec(path: &Path) -> Result<Spec, CdiError> {
    let bad = |reason: String| CdiError::InvalidSpec {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_SPEC_SIZE {
        return Err(bad(format!("larger than {MAX_SPEC_SIZE} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let spec: Spec = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| bad(e.to_string()))?
    };
    let version: Vec<u32> = spec
        .cdi_version
        .split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect();
    if !matches!(version.as_slice(), [0, 3..=8, _]) {
        return Err(bad(format!(
            "cdiVersion {:?} is not one wharf reads (0.3.0 to 0.8.0)",
            spec.cdi_version
        )));
    }
    Ok(spec)
}

fn apply(name: &str, path: &Path, edits: &Edits, out: &mut DeviceEdits) -> Result<(), CdiError> {
    let unsupported = |what: String| CdiError::Unsupported {
        name: name.to_owned(),
        path: path.to_path_buf(),
        what,
    };
    if let Some(h) = edits.hooks.first() {
        return Err(unsupported(format!(
            "the {} hook {} (CDI hooks run host programs; wharf runs none)",
            h.hook_name, h.path
        )));
    }
    if !edits.additional_gids.is_empty() {
        return Err(unsupported("additionalGids".to_owned()));
    }
    if edits.intel_rdt.is_some() {
        return Err(unsupported("intelRdt".to_owned()));
    }
    let invalid = |reason: String| CdiError::InvalidSpec {
        path: path.to_path_buf(),
        reason,
    };
    for e in &edits.env {
        if !e.contains('=') || e.starts_with('=') {
            return Err(invalid(format!("env entry {e:?} is not KEY=VALUE")));
        }
        out.env.push(e.clone());
    }
    let bind = |src: &str, dst: &str, opts: &[String]| {
        let mut options = vec!["rbind".to_owned(), "nosuid".to_owned()];
        options.extend(
            opts.iter()
                .filter(|o| *o != "bind" && *o != "rbind")
                .cloned(),
        );
        oci_spec::runtime::MountBuilder::default()
            .destination(dst)
            .typ("bind")
            .source(src)
            .options(options)
            .build()
            .map_err(|e| invalid(e.to_string()))
    };
    for n in &edits.device_nodes {
        let host = n.host_path.as_deref().unwrap_or(&n.path);
        if !n.path.starts_with('/') || !host.starts_with('/') {
            return Err(invalid(format!(
                "device node {:?}: paths must be absolute",
                n.path
            )));
        }
        let meta = std::fs::metadata(host)
            .map_err(|e| invalid(format!("device node {:?}: host node {host}: {e}", n.path)))?;
        {
            use std::os::unix::fs::FileTypeExt as _;
            let t = meta.file_type();
            if !(t.is_char_device() || t.is_block_device()) {
                return Err(invalid(format!("{host} is not a device node")));
            }
        }
        if n.permissions
            .as_deref()
            .is_some_and(|p| !(p.contains('r') && p.contains('w')))
        {
            return Err(unsupported(format!(
                "device node {} with permissions {:?} (only a devices cgroup could narrow \
                 access to a bound node)",
                n.path,
                n.permissions.as_deref().unwrap_or_default()
            )));
        }
        out.mounts.push(bind(host, &n.path, &["rw".to_owned()])?);
    }
    for m in &edits.mounts {
        if !m.host_path.starts_with('/') || !m.container_path.starts_with('/') {
            return Err(invalid(format!(
                "mount {:?}: paths must be absolute",
                m.container_path
            )));
        }
        out.mounts
            .push(bind(&m.host_path, &m.container_path, &m.options)?);
    }
    Ok(())
}

/// The spec directories: `--cdi-spec-dir`s when given, else [`DEFAULT_SPEC_DIRS`].
pub fn spec_dirs(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() {
        DEFAULT_SPEC_DIRS.iter().map(PathBuf::from).collect()
    } else {
        given.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(is_cdi_name("vendor.com/gpu=0"));
        assert!(is_cdi_name("nvidia.com/gpu=all"));
        for no in [
            "/dev/null",
            "gpu=0",
            "vendor.com/gpu",
            "1v/c=x",
            "v/c=",
            "v/c d=x",
        ] {
            assert!(!is_cdi_name(no), "{no}");
        }
    }

    #[test]
    fn json_and_yaml_specs_resolve_with_the_last_directory_winning() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            a.join("v.json"),
            r#"{"cdiVersion":"0.6.0","kind":"example.test/dev","containerEdits":{"env":["ALL=1"]},
               "devices":[{"name":"one","containerEdits":{"env":["WHICH=a"],
               "deviceNodes":[{"path":"/dev/x","hostPath":"/dev/null"}]}}]}"#,
        )
        .unwrap();
        std::fs::write(
            b.join("v.yaml"),
            "cdiVersion: 0.8.0\nkind: example.test/dev\ndevices:\n- name: one\n  containerEdits:\n    env: [WHICH=b]\n    mounts:\n    - hostPath: /etc\n      containerPath: /host-etc\n      options: [ro]\n",
        )
        .unwrap();
        let only_a = resolve("example.test/dev=one", std::slice::from_ref(&a)).unwrap();
        assert_eq!(only_a.env, ["ALL=1", "WHICH=a"]);
        assert_eq!(only_a.mounts[0].destination(), Path::new("/dev/x"));
        let both = resolve("example.test/dev=one", &[a.clone(), b.clone()]).unwrap();
        assert_eq!(both.env, ["WHICH=b"]);
        assert!(
            both.mounts[0]
                .options()
                .as_ref()
                .unwrap()
                .contains(&"ro".to_owned())
        );
        let e = resolve("example.test/dev=two", &[a.clone(), b.clone()]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("example.test/dev=two") && msg.contains(&*a.to_string_lossy()));
        std::fs::write(
            b.join("hook.json"),
            r#"{"cdiVersion":"0.5.0","kind":"example.test/hooked","devices":[{"name":"h",
               "containerEdits":{"hooks":[{"hookName":"createContainer","path":"/bin/true"}]}}]}"#,
        )
        .unwrap();
        let e = resolve("example.test/hooked=h", std::slice::from_ref(&b))
            .unwrap_err()
            .to_string();
        assert!(e.contains("createContainer hook /bin/true"), "{e}");
        std::fs::write(
            b.join("old.json"),
            r#"{"cdiVersion":"0.2.0","kind":"x.y/z"}"#,
        )
        .unwrap();
        assert!(resolve("example.test/dev=one", std::slice::from_ref(&b)).is_ok());
        let e = resolve("x.y/z=q", &[b]).unwrap_err().to_string();
        assert!(e.contains("0.2.0") && e.contains("specs skipped"), "{e}");
    }
}
