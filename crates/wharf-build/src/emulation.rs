//! Building for another platform: RUN steps of a foreign architecture execute through the
//! kernel's binfmt_misc handing the binary to a qemu-user interpreter. Only a handler with the
//! `F` (fix binary) flag works in a build: the kernel opens the interpreter when the handler is
//! registered, so it still runs inside the sandbox's user namespace and root, where the
//! interpreter's path does not exist.

use std::path::Path;

use wharf_oci::Platform;

/// Where the kernel lists binfmt_misc handlers.
const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";

/// Why a foreign platform's commands cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmulationMissing {
    #[error("qemu-user has no emulator for the architecture {arch}")]
    UnknownArch { arch: String },
    #[error("binfmt_misc is not mounted at {BINFMT_DIR}")]
    NotMounted,
    #[error("binfmt_misc is disabled ({BINFMT_DIR}/status)")]
    Disabled,
    #[error("no binfmt_misc handler {handler} is registered")]
    NotRegistered { handler: String },
    #[error("the binfmt_misc handler {handler} is disabled")]
    HandlerDisabled { handler: String },
    #[error(
        "the binfmt_misc handler {handler} lacks the F (fix binary) flag, which a build in a \
         user namespace needs"
    )]
    NoFixBinary { handler: String },
}

/// A platform as BuildKit writes it into an image config and gives it to `TARGET*` ARGs:
/// containerd's `platforms.Normalize`, which drops the default `v8` of arm64 (wharf-oci keeps
/// it to match index entries, as the containers tools do).
pub fn image_platform(p: &Platform) -> Platform {
    let mut p = p.clone();
    if p.architecture == "arm64" && p.variant.as_deref() == Some("v8") {
        p.variant = None;
    }
    p
}

/// The name qemu-user gives an OCI architecture (`qemu-<name>` is its binfmt handler).
pub fn qemu_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "arm" => "arm",
        "386" => "i386",
        "ppc64le" => "ppc64le",
        "ppc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64le" => "mips64el",
        "mips64" => "mips64",
        "mipsle" => "mipsel",
        "mips" => "mips",
        "loong64" => "loongarch64",
        _ => return None,
    })
}

/// Whether binaries of `platform` run on this machine without emulation: the host's own
/// platform, and 32-bit x86 on x86-64.
pub fn is_native(platform: &Platform) -> bool {
    let host = Platform::host();
    host.matches(platform)
        || (host.os == platform.os
            && host.architecture == "amd64"
            && platform.architecture == "386")
}

/// Checks that RUN can execute binaries of `platform`: natively or through a registered,
/// enabled qemu-user handler with the `F` flag.
pub fn check_emulation(platform: &Platform) -> Result<(), EmulationMissing> {
    if is_native(platform) {
        return Ok(());
    }
    check_in(Path::new(BINFMT_DIR), &platform.architecture)
}

fn check_in(dir: &Path, arch: &str) -> Result<(), EmulationMissing> {
    let qemu = qemu_arch(arch).ok_or_else(|| EmulationMissing::UnknownArch {
        arch: arch.to_owned(),
    })?;
    let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
        return Err(EmulationMissing::NotMounted);
    };
    if status.trim() != "enabled" {
        return Err(EmulationMissing::Disabled);
    }
    let handler = format!("qemu-{qemu}");
    let Ok(text) = std::fs::read_to_string(dir.join(&handler)) else {
        return Err(EmulationMissing::NotRegistered { handler });
    };
    if text.lines().next().map(str::trim) != Some("enabled") {
        return Err(EmulationMissing::HandlerDisabled { handler });
    }
    let fix_binary = text
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .is_some_and(|f| f.contains('F'));
    if !fix_binary {
        return Err(EmulationMissing::NoFixBinary { handler });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(status: Option<&str>, handler: Option<(&str, &str)>) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        if let Some(s) = status {
            std::fs::write(t.path().join("status"), s).unwrap();
        }
        if let Some((name, text)) = handler {
            std::fs::write(t.path().join(name), text).unwrap();
        }
        t
    }

    #[test]
    fn handlers_need_to_be_enabled_with_the_fix_binary_flag() {
        let good = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\n";
        let t = dir_with(Some("enabled\n"), Some(("qemu-aarch64", good)));
        assert_eq!(check_in(t.path(), "arm64"), Ok(()));
        assert_eq!(
            check_in(t.path(), "s390x"),
            Err(EmulationMissing::NotRegistered {
                handler: "qemu-s390x".into()
            })
        );
        assert!(matches!(
            check_in(t.path(), "sparc"),
            Err(EmulationMissing::UnknownArch { .. })
        ));
        let no_f = "enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OC\n";
        let t = dir_with(Some("enabled\n"), Some(("qemu-aarch64", no_f)));
        assert!(matches!(
            check_in(t.path(), "arm64"),
            Err(EmulationMissing::NoFixBinary { .. })
        ));
        let off = "disabled\ninterpreter /usr/bin/qemu-aarch64\nflags: F\n";
        let t = dir_with(Some("enabled\n"), Some(("qemu-aarch64", off)));
        assert!(matches!(
            check_in(t.path(), "arm64"),
            Err(EmulationMissing::HandlerDisabled { .. })
        ));
        let t = dir_with(Some("disabled\n"), Some(("qemu-aarch64", good)));
        assert_eq!(check_in(t.path(), "arm64"), Err(EmulationMissing::Disabled));
        let t = dir_with(None, None);
        assert_eq!(
            check_in(t.path(), "arm64"),
            Err(EmulationMissing::NotMounted)
        );
    }

    #[test]
    fn the_host_platform_is_native() {
        assert!(is_native(&Platform::host()));
        assert_eq!(check_emulation(&Platform::host()), Ok(()));
        assert_eq!(qemu_arch("arm64"), Some("aarch64"));
        assert_eq!(qemu_arch("amd64"), Some("x86_64"));
    }
}
