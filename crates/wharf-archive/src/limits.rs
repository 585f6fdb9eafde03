//! Limits on how far a compressed layer may expand while it is decompressed.
//!
//! A layer blob is outside input: 2 MB of gzip can hold 2 GiB of zeros, and zstd goes far
//! beyond that. No peer limits it (containerd, podman and buildah expand whatever they get), so
//! a hostile image can fill the disk of whoever pulls it. Two limits, both read once per process
//! from the environment, bound every decompression of a layer or a tar archive:
//!
//! - `WHARF_LAYER_MAX_SIZE`: the most bytes one stream may expand to (`0`, the default, is no
//!   limit; suffixes `K`, `M`, `G`, `T` in powers of 1024).
//! - `WHARF_LAYER_MAX_RATIO`: the most a stream may expand relative to the compressed bytes read
//!   so far, checked once it has produced [`RATIO_FLOOR`] bytes (`0` turns it off; default
//!   [`DEFAULT_MAX_RATIO`]). Real layers stay far below it: binaries and text compress 3–10
//!   times; only a layer that is mostly one repeated byte comes near gzip's maximum of ~1030.

use std::io;
use std::sync::OnceLock;

/// The default of `WHARF_LAYER_MAX_RATIO`.
pub const DEFAULT_MAX_RATIO: u64 = 100;
/// Output below this size is never refused for its ratio: small, very compressible layers
/// (an empty file of a few MiB) are common and harmless.
pub const RATIO_FLOOR: u64 = 512 << 20;

/// The expansion limits in force; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpansionLimits {
    /// Most uncompressed bytes per stream; `None` for no limit.
    pub max_size: Option<u64>,
    /// Most uncompressed bytes per compressed byte, past [`RATIO_FLOOR`]; `None` for no limit.
    pub max_ratio: Option<u64>,
}

impl Default for ExpansionLimits {
    fn default() -> Self {
        Self {
            max_size: None,
            max_ratio: Some(DEFAULT_MAX_RATIO),
        }
    }
}

/// A limit that a stream went past: the error inside the `io::Error` that the decompressor
/// returns, so that every caller reports it with its own context (which layer, which file).
#[derive(Debug, thiserror::Error)]
pub enum ExpansionError {
    #[error(
        "the stream expands past {limit} bytes (WHARF_LAYER_MAX_SIZE); refused as a possible decompression bomb (raise the limit, or set it to 0, for an image you trust)"
    )]
    Size { limit: u64 },
    #[error(
        "{uncompressed} bytes came out of {compressed} compressed bytes, more than {limit} times as many (WHARF_LAYER_MAX_RATIO); refused as a possible decompression bomb (raise the limit, or set it to 0, for an image you trust)"
    )]
    Ratio {
        uncompressed: u64,
        compressed: u64,
        limit: u64,
    },
    #[error("{var}={value:?} is not a byte count (examples: 0, 10737418240, 10G)")]
    BadSetting { var: &'static str, value: String },
}

impl ExpansionLimits {
    /// No limits at all.
    pub const UNLIMITED: Self = Self {
        max_size: None,
        max_ratio: None,
    };

    /// The limits of this process: the environment's, read once; a malformed value falls back
    /// to the default and is reported by [`ExpansionLimits::from_env`] to callers that check.
    pub fn current() -> Self {
        static CURRENT: OnceLock<ExpansionLimits> = OnceLock::new();
        *CURRENT.get_or_init(|| Self::from_env().unwrap_or_default())
    }

    /// The limits set by `WHARF_LAYER_MAX_SIZE` and `WHARF_LAYER_MAX_RATIO`.
    pub fn from_env() -> Result<Self, ExpansionError> {
        let mut limits = Self::default();
        if let Some(v) = read_var("WHARF_LAYER_MAX_SIZE")? {
            limits.max_size = (v > 0).then_some(v);
        }
        if let Some(v) = read_var("WHARF_LAYER_MAX_RATIO")? {
            limits.max_ratio = (v > 0).then_some(v);
        }
        Ok(limits)
    }

    /// Checks a stream that has produced `uncompressed` bytes from `compressed` ones.
    pub(crate) fn check(self, uncompressed: u64, compressed: u64) -> Result<(), ExpansionError> {
        if let Some(limit) = self.max_size
            && uncompressed > limit
        {
            return Err(ExpansionError::Size { limit });
        }
        if let Some(limit) = self.max_ratio
            && uncompressed > RATIO_FLOOR
            && uncompressed / compressed.max(1) > limit
        {
            return Err(ExpansionError::Ratio {
                uncompressed,
                compressed,
                limit,
            });
        }
        Ok(())
    }

    /// [`Self::check`] as the `io::Error` a reader returns.
    pub(crate) fn check_io(self, uncompressed: u64, compressed: u64) -> io::Result<()> {
        self.check(uncompressed, compressed)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

fn read_var(var: &'static str) -> Result<Option<u64>, ExpansionError> {
    let Ok(value) = std::env::var(var) else {
        return Ok(None);
    };
    parse_bytes(&value)
        .map(Some)
        .ok_or(ExpansionError::BadSetting { var, value })
}

/// `123`, `10K`, `512M`, `2G`, `1T` (powers of 1024; a trailing `B`/`iB` is accepted).
fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix('B'))
        .unwrap_or(s);
    let (digits, shift) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 10),
        'M' | 'm' => (&s[..s.len() - 1], 20),
        'G' | 'g' => (&s[..s.len() - 1], 30),
        'T' | 't' => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()?
        .checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_parse() {
        assert_eq!(parse_bytes("0"), Some(0));
        assert_eq!(parse_bytes("10G"), Some(10 << 30));
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes(" 3k "), Some(3 << 10));
        assert_eq!(parse_bytes("x"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("99999999999T"), None);
    }

    #[test]
    fn ratio_counts_only_past_the_floor() {
        let l = ExpansionLimits::default();
        assert!(l.check(RATIO_FLOOR, 1).is_ok());
        assert!(l.check(RATIO_FLOOR + 1, 1).is_err());
        assert!(l.check(RATIO_FLOOR * 2, RATIO_FLOOR / 50).is_ok());
        let sized = ExpansionLimits {
            max_size: Some(100),
            max_ratio: None,
        };
        assert!(sized.check(100, 1).is_ok());
        let e = sized.check(101, 100).unwrap_err();
        assert!(e.to_string().contains("WHARF_LAYER_MAX_SIZE"), "{e}");
        assert!(ExpansionLimits::UNLIMITED.check(u64::MAX, 0).is_ok());
    }
}
