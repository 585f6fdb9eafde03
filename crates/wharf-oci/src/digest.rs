//! Content digests, as defined by the image-spec
//! [descriptor digests](https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests):
//!
//! ```text
//! digest                ::= algorithm ":" encoded
//! algorithm             ::= algorithm-component (algorithm-separator algorithm-component)*
//! algorithm-component   ::= [a-z0-9]+
//! algorithm-separator   ::= [+._-]
//! encoded               ::= [a-zA-Z0-9=_-]+
//! ```
//!
//! `sha256` must be 64 and `sha512` 128 lower-case hex characters. The type itself is
//! `oci_spec::image::Digest`, re-exported; this module adds parsing with errors that say
//! which part is wrong, and streaming hashers that produce digests.

use std::io::{self, Read, Write};

pub use oci_spec::image::{Digest, DigestAlgorithm};
use sha2::Digest as _;

/// Why a digest string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("invalid digest {input:?}: missing ':' between algorithm and encoded value")]
    MissingSeparator { input: String },
    #[error(
        "invalid digest {input:?}: bad algorithm {algorithm:?} (expected [a-z0-9]+ components joined by '+', '.', '_' or '-')"
    )]
    BadAlgorithm { input: String, algorithm: String },
    #[error(
        "invalid digest {input:?}: encoded value must be {expected} lower-case hex characters for {algorithm}"
    )]
    BadHex {
        input: String,
        algorithm: &'static str,
        expected: usize,
    },
    #[error(
        "invalid digest {input:?}: encoded value is empty or has characters outside [a-zA-Z0-9=_-]"
    )]
    BadEncoded { input: String },
    #[error(
        "unsupported digest algorithm {algorithm:?} in {input:?} (wharf verifies sha256 and sha512)"
    )]
    Unsupported { input: String, algorithm: String },
}

/// Parses and validates a digest string, naming the part that is wrong.
///
/// Unknown but well-formed algorithms are accepted (the spec allows them); use
/// [`Hasher::for_digest`] to find out whether content can be verified against it.
pub fn parse(input: &str) -> Result<Digest, DigestError> {
    let Some((algorithm, encoded)) = input.split_once(':') else {
        return Err(DigestError::MissingSeparator {
            input: input.to_owned(),
        });
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !algorithm_ok {
        return Err(DigestError::BadAlgorithm {
            input: input.to_owned(),
            algorithm: algorithm.to_owned(),
        });
    }
    let hex_len = match algorithm {
        "sha256" => Some(("sha256", 64)),
        "sha512" => Some(("sha512", 128)),
        "sha384" => Some(("sha384", 96)),
        _ => None,
    };
    if let Some((name, len)) = hex_len {
        if encoded.len() != len
            || !encoded
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestError::BadHex {
                input: input.to_owned(),
                algorithm: name,
                expected: len,
            });
        }
    } else if encoded.is_empty()
        || !encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
    {
        return Err(DigestError::BadEncoded {
            input: input.to_owned(),
        });
    }
    // The grammar above is the one oci-spec checks too, so this cannot fail; map defensively.
    Digest::try_from(input).map_err(|_| DigestError::BadEncoded {
        input: input.to_owned(),
    })
}

/// The sha256 digest of a byte slice (manifests, configs, small blobs).
pub fn sha256(bytes: &[u8]) -> Digest {
    let mut h = Hasher::sha256();
    h.update(bytes);
    h.finish()
}

/// A streaming hasher for one of the algorithms wharf verifies.
#[derive(Clone)]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sha256(_) => "Hasher::Sha256",
            Self::Sha512(_) => "Hasher::Sha512",
        })
    }
}

impl Hasher {
    pub fn sha256() -> Self {
        Self::Sha256(sha2::Sha256::new())
    }

    /// A hasher of the same algorithm as `digest`, to verify content against it.
    pub fn for_digest(digest: &Digest) -> Result<Self, DigestError> {
        match digest.algorithm() {
            DigestAlgorithm::Sha256 => Ok(Self::Sha256(sha2::Sha256::new())),
            DigestAlgorithm::Sha512 => Ok(Self::Sha512(sha2::Sha512::new())),
            other => Err(DigestError::Unsupported {
                input: digest.to_string(),
                algorithm: other.to_string(),
            }),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digest {
        let (alg, hex) = match self {
            Self::Sha256(h) => ("sha256", hex::encode(h.finalize())),
            Self::Sha512(h) => ("sha512", hex::encode(h.finalize())),
        };
        // A lower-case hex string of the right length always satisfies the grammar.
        Digest::try_from(format!("{alg}:{hex}"))
            .unwrap_or_else(|_| unreachable!("hex digest is valid"))
    }
}

/// A reader that hashes and counts everything read through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, hasher: Hasher) -> Self {
        Self {
            inner,
            hasher,
            count: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The digest of everything read, the byte count, and the inner reader.
    pub fn finish(self) -> (Digest, u64, R) {
        (self.hasher.finish(), self.count, self.inner)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts everything written through it.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W, hasher: Hasher) -> Self {
        Self {
            inner,
            hasher,
            count: 0,
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The digest of everything written, the byte count, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (self.hasher.finish(), self.count, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_json_object_matches_the_spec() {
        // image-spec manifest.md: the digest of `{}` is given verbatim.
        assert_eq!(
            sha256(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn parse_names_the_bad_part() {
        assert!(matches!(
            parse("sha256"),
            Err(DigestError::MissingSeparator { .. })
        ));
        assert!(matches!(
            parse("SHA256:00"),
            Err(DigestError::BadAlgorithm { .. })
        ));
        assert!(matches!(
            parse("sha256:abc"),
            Err(DigestError::BadHex { expected: 64, .. })
        ));
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(matches!(parse(&upper), Err(DigestError::BadHex { .. })));
        assert!(matches!(
            parse("sha512:00"),
            Err(DigestError::BadHex { expected: 128, .. })
        ));
        assert!(matches!(
            parse("foo+b64:"),
            Err(DigestError::BadEncoded { .. })
        ));
        assert!(parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8").is_ok());
        assert!(parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
    }

    #[test]
    fn hashing_reader_and_writer_agree() {
        let data = vec![7u8; 100_000];
        let mut r = HashingReader::new(&data[..], Hasher::sha256());
        io::copy(&mut r, &mut io::sink()).unwrap();
        let (d1, n1, _) = r.finish();
        let mut w = HashingWriter::new(Vec::new(), Hasher::sha256());
        w.write_all(&data).unwrap();
        let (d2, n2, out) = w.finish();
        assert_eq!((d1.clone(), n1), (d2, n2));
        assert_eq!(out, data);
        assert_eq!(d1, sha256(&data));
        let unsupported = parse("multihash+base58:Qm").unwrap();
        assert!(Hasher::for_digest(&unsupported).is_err());
    }
}
