//! Lookaside signature storage (containers-registries.d(5)): signatures of
//! `HOST/REPO@sha256:HEX` are `BASE/REPO@sha256=HEX/signature-N`, N = 1, 2, … until one is
//! missing. `file://` and `http(s)://` bases are read; only `file://` is written (staging).

use std::path::PathBuf;

use wharf_oci::{Digest, Reference};

use crate::error::{Result, SignError};

/// A signature file larger than this is refused (containers/image: 4 MiB).
const MAX_SIGNATURE: u64 = 4 << 20;
/// More signatures than this on one image are not read.
const MAX_SIGNATURES: usize = 64;

/// The URL of signature number `n` (from 1).
pub fn url(base: &str, reference: &Reference, digest: &Digest, n: usize) -> String {
    let d = digest.to_string().replacen(':', "=", 1);
    format!(
        "{}/{}@{d}/signature-{n}",
        base.trim_end_matches('/'),
        reference.repository
    )
}

fn file_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("file://").map(PathBuf::from)
}

/// Reads every signature of `digest` under `base`.
pub async fn read(base: &str, reference: &Reference, digest: &Digest) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let http = if file_path(base).is_none() {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SignError::Unsupported {
                what: format!("lookaside URL {base:?} (file://, http:// and https:// are)"),
            });
        }
        Some(reqwest::Client::new())
    } else {
        None
    };
    for n in 1..=MAX_SIGNATURES {
        let u = url(base, reference, digest, n);
        let got = match (&http, file_path(&u)) {
            (_, Some(path)) => read_file(&path)?,
            (Some(client), None) => read_http(client, &u).await?,
            (None, None) => None,
        };
        match got {
            Some(b) => out.push(b),
            None => break,
        }
    }
    Ok(out)
}

fn read_file(path: &std::path::Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SignError::io("opening", path)(e)),
    };
    let mut b = Vec::new();
    f.take(MAX_SIGNATURE + 1)
        .read_to_end(&mut b)
        .map_err(SignError::io("reading", path))?;
    if b.len() as u64 > MAX_SIGNATURE {
        return Err(SignError::BadSignature {
            why: format!("{} is larger than {MAX_SIGNATURE} bytes", path.display()),
        });
    }
    Ok(Some(b))
}

async fn read_http(client: &reqwest::Client, u: &str) -> Result<Option<Vec<u8>>> {
    let fail = |why: String| SignError::Fetch {
        url: u.to_owned(),
        why,
    };
    let mut resp = client
        .get(u)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(fail(format!("the server answered {}", resp.status())));
    }
    let mut b = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        b.extend_from_slice(&chunk);
        if b.len() as u64 > MAX_SIGNATURE {
            return Err(fail(format!("larger than {MAX_SIGNATURE} bytes")));
        }
    }
    Ok(Some(b))
}

/// Stores `signature` as the next free `signature-N` under a `file://` base.
pub fn write(
    base: &str,
    reference: &Reference,
    digest: &Digest,
    signature: &[u8],
) -> Result<PathBuf> {
    if file_path(base).is_none() {
        return Err(SignError::CannotStore {
            destination: base.to_owned(),
            why: "only file:// lookaside storage can be written; set lookaside-staging".into(),
        });
    }
    for n in 1..=MAX_SIGNATURES {
        let Some(path) = file_path(&url(base, reference, digest, n)) else {
            break;
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(SignError::io("creating", dir))?;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write as _;
                f.write_all(signature)
                    .map_err(SignError::io("writing", &path))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if read_file(&path)?.as_deref() == Some(signature) {
                    return Ok(path);
                }
            }
            Err(e) => return Err(SignError::io("creating", &path)(e)),
        }
    }
    Err(SignError::CannotStore {
        destination: base.to_owned(),
        why: format!("more than {MAX_SIGNATURES} signatures"),
    })
}
