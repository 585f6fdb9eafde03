//! Platforms (`os/arch[/variant]`) and choosing the right manifest from an index, as the
//! containers tools do: architecture names normalised (`x86_64` -> `amd64`, `aarch64` -> `arm64`),
//! `arm64` meaning `arm64/v8` and `arm` meaning `arm/v7` when no variant is given.

use std::fmt;

use crate::Descriptor;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlatformError {
    #[error(
        "invalid platform {input:?}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8"
    )]
    Syntax { input: String },
}

/// An operating system, architecture and optional variant, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let (architecture, variant) = normalize_arch(architecture, variant);
        Self {
            os: os.to_ascii_lowercase(),
            architecture,
            variant,
        }
    }

    /// Parses `os/arch[/variant]`; a bare `arch` means `linux/arch`.
    pub fn parse(input: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = input.split('/').collect();
        let bad = || PlatformError::Syntax {
            input: input.to_owned(),
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [arch] => Ok(Self::new("linux", arch, None)),
            [os, arch] => Ok(Self::new(os, arch, None)),
            [os, arch, variant] => Ok(Self::new(os, arch, Some(variant))),
            _ => Err(bad()),
        }
    }

    /// The platform this program runs on.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Self::new(std::env::consts::OS, arch, None)
    }

    /// Whether a manifest for `candidate` can run on `self` (variant-less sides match any variant
    /// only where the architecture has a default variant equal to the other side).
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.architecture == candidate.architecture
            && (self.variant == candidate.variant
                || self.variant.is_none()
                || candidate.variant.is_none())
    }

    /// Builds a platform from an index entry's `platform` object.
    pub fn from_oci(p: &oci_spec::image::Platform) -> Self {
        Self::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        )
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.map(str::to_ascii_lowercase);
    match arch.as_str() {
        "x86_64" | "x86-64" | "amd64" => ("amd64".into(), variant.filter(|v| v != "v1")),
        "aarch64" | "arm64" => (
            "arm64".into(),
            match variant.as_deref() {
                None | Some("8" | "v8") => Some("v8".into()),
                Some(_) => variant,
            },
        ),
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        "arm" => (
            "arm".into(),
            match variant.as_deref() {
                None | Some("7" | "v7") => Some("v7".into()),
                Some("6") => Some("v6".into()),
                Some("5") => Some("v5".into()),
                Some(_) => variant,
            },
        ),
        "i386" | "i686" | "386" => ("386".into(), variant),
        _ => (arch, variant),
    }
}

/// Chooses the manifest for `want` among an index's entries: an exact variant match first, then
/// a variant-compatible one. Entries without a platform are skipped.
pub fn select_manifest<'a>(entries: &'a [Descriptor], want: &Platform) -> Option<&'a Descriptor> {
    let candidates: Vec<(&Descriptor, Platform)> = entries
        .iter()
        .filter_map(|d| d.platform().as_ref().map(|p| (d, Platform::from_oci(p))))
        .collect();
    candidates
        .iter()
        .find(|(_, p)| p == want)
        .or_else(|| candidates.iter().find(|(_, p)| want.matches(p)))
        .map(|(d, _)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;

    #[test]
    fn parse_and_normalise() {
        assert_eq!(
            Platform::parse("linux/amd64").unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::parse("linux/x86_64").unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::parse("linux/aarch64").unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert_eq!(
            Platform::parse("linux/arm").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse("arm64").unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert!(Platform::parse("linux//v7").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert_eq!(Platform::host().os, "linux");
    }

    #[test]
    fn selects_from_index() {
        let mk = |os: &str, arch: &str, v: Option<&str>, body: &[u8]| {
            let mut p = oci_spec::image::PlatformBuilder::default()
                .os(oci_spec::image::Os::from(os))
                .architecture(oci_spec::image::Arch::from(arch))
                .build()
                .unwrap();
            p.set_variant(v.map(str::to_owned));
            let mut d = Descriptor::new(crate::MediaType::ImageManifest, 1, sha256(body));
            d.set_platform(Some(p));
            d
        };
        let entries = vec![
            mk("linux", "arm", Some("v6"), b"a"),
            mk("linux", "arm", Some("v7"), b"b"),
            mk("linux", "amd64", None, b"c"),
            mk("linux", "arm64", Some("v8"), b"d"),
        ];
        let pick = |s: &str| {
            select_manifest(&entries, &Platform::parse(s).unwrap()).map(|d| d.digest().clone())
        };
        assert_eq!(pick("linux/amd64"), Some(sha256(b"c")));
        assert_eq!(pick("linux/arm/v6"), Some(sha256(b"a")));
        assert_eq!(pick("linux/arm"), Some(sha256(b"b")));
        assert_eq!(pick("linux/arm64"), Some(sha256(b"d")));
        assert_eq!(pick("linux/s390x"), None);
    }
}
