//! Build and target platforms, for the predefined `TARGET*` / `BUILD*` ARGs.
//!
//! wharf-oci has its own platform type; this crate depends on nothing of ours,
//! so it keeps this small `os/arch[/variant]` form.

use std::fmt;

/// An `os/arch[/variant]` platform, as in `--platform=linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    /// `linux`, `windows`, ...
    pub os: String,
    /// Go architecture name: `amd64`, `arm64`, `arm`, `riscv64`, ...
    pub arch: String,
    /// `v7`, `v8`, ... or empty.
    pub variant: String,
}

impl Platform {
    /// Parses `os/arch[/variant]`; `None` when it has fewer than two or more than three parts.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Some(Self {
                os: (*os).to_owned(),
                arch: (*arch).to_owned(),
                variant: String::new(),
            }),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() => Some(Self {
                os: (*os).to_owned(),
                arch: (*arch).to_owned(),
                variant: (*variant).to_owned(),
            }),
            _ => None,
        }
    }

    /// The platform this process runs on, with Go's architecture names.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Self {
            os: std::env::consts::OS.to_owned(),
            arch: arch.to_owned(),
            variant: if arch == "arm" {
                "v7".to_owned()
            } else {
                String::new()
            },
        }
    }
}

impl Default for Platform {
    fn default() -> Self {
        Self::host()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}
