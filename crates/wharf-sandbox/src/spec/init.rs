//! `--init`: PID 1 is a tiny init that reaps zombies and forwards signals to the command.
//! The embedded runtime provides it itself (no binary in the image: the spec only carries an
//! annotation); for an external runtime a static init from the host (catatonit, tini) is
//! bind-mounted at [`INIT_PATH`] and put in front of the command, as podman does.

use std::path::PathBuf;

use oci_spec::runtime::Spec;

use crate::error::SandboxError;

/// The annotation that asks the embedded runtime for its own init.
pub const INIT_ANNOTATION: &str = "io.wharf.init";
/// Where a host init binary appears in the container.
pub const INIT_PATH: &str = "/run/berth-init";

/// Who is PID 1 with `--init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitMode {
    /// The embedded runtime's own init.
    Embedded,
    /// This host binary (`catatonit`, `tini`), run as `INIT_PATH -- COMMAND...`.
    Binary(PathBuf),
}

/// The first init binary installed on the host: catatonit, tini-static, tini (in `PATH`).
pub fn find_init_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["catatonit", "tini-static", "tini"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
}

pub(crate) fn apply(spec: &mut Spec, mode: &InitMode) -> Result<(), SandboxError> {
    match mode {
        InitMode::Embedded => {
            let mut annotations = spec.annotations().clone().unwrap_or_default();
            annotations.insert(INIT_ANNOTATION.into(), "true".into());
            spec.set_annotations(Some(annotations));
        }
        InitMode::Binary(binary) => {
            let mut mounts = spec.mounts().clone().unwrap_or_default();
            mounts.push(super::mounts::mount(
                INIT_PATH,
                "bind",
                binary.clone(),
                &["bind", "ro", "nosuid", "nodev"],
            )?);
            spec.set_mounts(Some(mounts));
            if let Some(process) = spec.process_mut() {
                let mut args = vec![INIT_PATH.to_string(), "--".to_string()];
                args.extend(process.args().clone().unwrap_or_default());
                process.set_args(Some(args));
            }
        }
    }
    Ok(())
}

/// Whether `spec` asks the embedded runtime for its init.
pub fn wants_embedded_init(spec: &Spec) -> bool {
    spec.annotations()
        .as_ref()
        .is_some_and(|a| a.get(INIT_ANNOTATION).is_some_and(|v| v == "true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SpecOptions, generate};

    #[test]
    fn binary_init_is_mounted_and_prefixed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\n",
        )
        .unwrap();
        let mut o = SpecOptions::new(root.path(), "h");
        o.command = Some(vec!["sleep".into(), "1".into()]);
        o.init = Some(InitMode::Binary("/usr/bin/catatonit".into()));
        let spec = generate(None, &o).unwrap();
        let args = spec.process().as_ref().unwrap().args().clone().unwrap();
        assert_eq!(args, [INIT_PATH, "--", "sleep", "1"]);
        let m = spec.mounts().as_ref().unwrap().last().unwrap();
        assert_eq!(m.destination(), std::path::Path::new(INIT_PATH));
        assert!(!wants_embedded_init(&spec));

        o.init = Some(InitMode::Embedded);
        let spec = generate(None, &o).unwrap();
        assert!(wants_embedded_init(&spec));
        let args = spec.process().as_ref().unwrap().args().clone().unwrap();
        assert_eq!(args, ["sleep", "1"]);
    }
}
