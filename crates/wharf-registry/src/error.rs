//! The one error type of the registry client. Every variant names what failed and where: the
//! registry host, repository, digest or file.

use std::path::PathBuf;

use wharf_oci::Digest;

/// An error from talking to a registry or reading its configuration.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{method} {url}: {source}")]
    Http {
        method: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{method} {url}: registry answered {status}{}", describe(code.as_deref(), message.as_deref()))]
    Status {
        method: String,
        url: String,
        status: u16,
        /// The distribution-spec error code (`MANIFEST_UNKNOWN`, `DENIED`, ...) when given.
        code: Option<String>,
        message: Option<String>,
    },
    #[error(
        "authentication to {host} failed: {}{}",
        if *had_credentials { "the registry refused the credentials" } else { "the registry requires credentials and none were found (hint: use --creds USER:PASS, --authfile or `login`)" },
        describe(None, detail.as_deref())
    )]
    Unauthorized {
        host: String,
        had_credentials: bool,
        detail: Option<String>,
    },
    #[error("access to {repository} on {host} denied{}", describe(None, detail.as_deref()))]
    Denied {
        host: String,
        repository: String,
        detail: Option<String>,
    },
    #[error("manifest {reference} not found in {host}/{repository}")]
    ManifestUnknown {
        host: String,
        repository: String,
        reference: String,
    },
    #[error("blob {digest} not found in {host}/{repository}")]
    BlobUnknown {
        host: String,
        repository: String,
        digest: Digest,
    },
    #[error("repository {repository} not found on {host}")]
    RepositoryUnknown { host: String, repository: String },
    #[error("content of {what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error(
        "registry refused the upload of blob {digest} to {repository}: its content does not match the digest"
    )]
    DigestRefused { repository: String, digest: Digest },
    #[error("blob {digest}: expected {expected} bytes, received {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("upload of {what}: the source gave {actual} bytes, {expected} were declared")]
    SourceSize {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("cannot verify {digest}: {source}")]
    UnverifiableDigest {
        digest: Digest,
        #[source]
        source: wharf_oci::digest::DigestError,
    },
    #[error(
        "{url}: only {bytes} bytes arrived in {seconds} s, below the low-speed limit of {limit} bytes/s (WHARF_LOW_SPEED_LIMIT, WHARF_LOW_SPEED_TIME; 0 turns it off)"
    )]
    TooSlow {
        url: String,
        bytes: u64,
        seconds: u64,
        limit: u64,
    },
    #[error("{what} from {url} is larger than the {limit}-byte limit")]
    TooLarge {
        what: &'static str,
        url: String,
        limit: u64,
    },
    #[error("{url}: invalid {header} header {value:?}")]
    BadHeader {
        url: String,
        header: &'static str,
        value: String,
    },
    #[error("{url}: {what}")]
    BadResponse { url: String, what: String },
    #[error("token request to {realm} failed: {what}")]
    Token { realm: String, what: String },
    #[error("invalid registry host {host:?}: {why}")]
    BadHost { host: String, why: &'static str },
    #[error("invalid {kind} {name:?}: {why}")]
    BadName {
        kind: &'static str,
        name: String,
        why: &'static str,
    },
    #[error("registry {registry} is blocked in {}", path.display())]
    Blocked { registry: String, path: PathBuf },
    #[error(
        "cannot reach {host} over https and plain http is not allowed (hint: pass --tls-verify=false or mark the registry insecure in registries.conf): {source}"
    )]
    NoHttps {
        host: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the upload source for {what}: {source}")]
    Source {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("parsing {}: {source}", path.display())]
    Toml {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{}: {what}", path.display())]
    BadConfig { path: PathBuf, what: String },
    #[error("credential helper docker-credential-{helper} for {host}: {what}")]
    CredentialHelper {
        helper: String,
        host: String,
        what: String,
    },
    #[error("invalid credentials {what}: expected USER:PASSWORD")]
    BadCredentials { what: String },
    #[error("certificate directory {}: {what}", path.display())]
    CertDir { path: PathBuf, what: String },
    #[error("building the HTTP client for {host}: {source}")]
    ClientBuild {
        host: String,
        #[source]
        source: reqwest::Error,
    },
}

fn describe(code: Option<&str>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(c), Some(m)) if !m.is_empty() => format!(" ({c}: {m})"),
        (Some(c), _) => format!(" ({c})"),
        (None, Some(m)) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

impl RegistryError {
    /// Whether trying again may succeed: connection failures, timeouts, truncated bodies,
    /// 408, 429 and 5xx answers.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { source, .. } => {
                source.is_connect()
                    || source.is_timeout()
                    || source.is_body()
                    || source.is_request()
                    || source.is_decode()
            }
            Self::Status { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }

    /// Whether this is a "not found" of a manifest, blob or repository.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::ManifestUnknown { .. }
                | Self::BlobUnknown { .. }
                | Self::RepositoryUnknown { .. }
        ) || matches!(self, Self::Status { status: 404, .. })
    }
}

pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
