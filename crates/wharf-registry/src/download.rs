//! Downloads that are not registry API calls — `ADD https://…` and `kiln build URL` — over the
//! same HTTP stack as registry requests, so a host's `certs.d` directory, client certificates,
//! the environment's proxies, the user agent and the timeouts apply to them as well. The
//! process's async runtime is passed in: a library call never starts its own.

use reqwest::Url;

use crate::client::{ClientOptions, http_client};
use crate::error::{RegistryError, Result};

/// Fetches URLs for one process.
#[derive(Debug, Clone)]
pub struct Downloader {
    runtime: tokio::runtime::Handle,
    opts: ClientOptions,
}

/// What [`Downloader::get`] learnt besides the body.
#[derive(Debug, Clone, Default)]
pub struct Downloaded {
    /// The `Last-Modified` header, in seconds since the epoch.
    pub last_modified: Option<i64>,
    /// Bytes received.
    pub size: u64,
}

impl Downloader {
    /// Downloads run on `runtime` with the registry context `opts` (its certificate
    /// directories, user agent and timeouts).
    pub fn new(runtime: tokio::runtime::Handle, opts: ClientOptions) -> Self {
        Self { runtime, opts }
    }

    /// The process's async runtime.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// `GET url`, each chunk of the body handed to `sink` as it arrives (nothing is held in
    /// memory). Certificates are always verified: `--tls-verify` and registries.conf's
    /// `insecure` are about registries, not about the web servers ADD reads from. Must not be
    /// called from inside the runtime.
    ///
    /// # Errors
    /// A URL that is not http(s), a connection or TLS failure (naming the certificate directory
    /// read), a status other than 2xx, or `sink` failing.
    pub fn get(
        &self,
        url: &str,
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<Downloaded> {
        let parsed = Url::parse(url).map_err(|e| RegistryError::BadUrl {
            url: url.to_owned(),
            why: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RegistryError::BadUrl {
                url: url.to_owned(),
                why: "only http and https URLs can be downloaded".to_owned(),
            });
        }
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => {
                return Err(RegistryError::BadUrl {
                    url: url.to_owned(),
                    why: "no host".to_owned(),
                });
            }
        };
        let (http, cert_note) = http_client(&host, &self.opts, false)?;
        let failed = |source: reqwest::Error| RegistryError::Download {
            url: url.to_owned(),
            note: cert_note.clone(),
            source,
        };
        self.runtime.block_on(async {
            let mut resp = http.get(parsed.clone()).send().await.map_err(failed)?;
            if !resp.status().is_success() {
                return Err(RegistryError::DownloadStatus {
                    url: url.to_owned(),
                    status: resp.status().as_u16(),
                });
            }
            let last_modified = resp
                .headers()
                .get(reqwest::header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .and_then(httpdate_seconds);
            let mut size = 0u64;
            while let Some(chunk) = resp.chunk().await.map_err(failed)? {
                size += chunk.len() as u64;
                sink(&chunk).map_err(|source| RegistryError::DownloadSink {
                    url: url.to_owned(),
                    source,
                })?;
            }
            Ok(Downloaded {
                last_modified,
                size,
            })
        })
    }
}

/// An HTTP date (RFC 7231's IMF-fixdate, which is RFC 2822's form) in seconds since the epoch.
fn httpdate_seconds(v: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            httpdate_seconds("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(httpdate_seconds("yesterday"), None);
    }
}
