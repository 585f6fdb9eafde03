//! The one error type of the registry client. Every variant names what failed and where: the
//! registry host, repository, digest or file.

use std::path::PathBuf;

use wharf_oci::Digest;

/// An error from talking to a registry or reading its configuration.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The transport failed. The message holds the innermost causes of `source` once (reqwest's
    /// own text repeats the URL), so it is not a `#[source]`.
    #[error("{method} {url}: {}", crate::error::cause_text(error))]
    Http {
        method: String,
        url: String,
        error: reqwest::Error,
    },
    /// The TLS handshake failed on a certificate (or the server did not speak TLS at all).
    #[error("{}", tls_message(host, problem, certs, *plain_http))]
    Tls {
        host: String,
        /// What the TLS library said about the certificate.
        problem: String,
        /// Which certificate directory was read, or where none was found.
        certs: String,
        /// The server answered the TLS hello with plain HTTP.
        plain_http: bool,
    },
    #[error("short name {name:?}: {what}")]
    ShortName { name: String, what: String },
    /// A request the client already retried as `--retry` allows: shown as its last failure,
    /// and not retryable again, so a caller's own retry (the transport's, per blob) does not
    /// multiply the attempts.
    #[error(transparent)]
    Exhausted(Box<RegistryError>),
    /// Every place an image may be pulled from (mirrors, then the registry) failed.
    #[error("{reference}: {}", failures.join("; "))]
    Endpoints {
        reference: String,
        /// `ENDPOINT: error`, in the order tried.
        failures: Vec<String>,
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
    #[error("cannot verify {digest}")]
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
    #[error("reading {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the upload source for {what}")]
    Source {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("parsing {}", path.display())]
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
    #[error("building the HTTP client for {host}")]
    ClientBuild {
        host: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot download {url}: {why}")]
    BadUrl { url: String, why: String },
    #[error("downloading {url} ({note})")]
    Download {
        url: String,
        /// Which certificate directory was read.
        note: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("downloading {url}: the server answered HTTP {status}")]
    DownloadStatus { url: String, status: u16 },
    #[error("downloading {url}: writing what was received")]
    DownloadSink {
        url: String,
        #[source]
        source: std::io::Error,
    },
}

/// The causes of a transport error, innermost last, each once: reqwest's top message ("error
/// sending request for url (...)") is left out when something more specific follows, and a
/// cause whose text its parent already contains is skipped.
pub(crate) fn cause_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    if parts.is_empty() {
        let t = e.to_string();
        // reqwest names the URL, which the message already shows.
        return match t.find(" for url (") {
            Some(i) => t[..i].to_owned(),
            None => t,
        };
    }
    parts.join(": ")
}

fn tls_message(host: &str, problem: &str, certs: &str, plain_http: bool) -> String {
    if plain_http {
        return format!(
            "{host} answered the TLS handshake with plain HTTP, and plain HTTP is not allowed \
             (hint: pass --tls-verify=false, or set insecure = true for it in registries.conf)"
        );
    }
    format!(
        "the TLS certificate of {host} was rejected: {problem} ({certs}; hint: put the CA \
         certificate that signed it, or the server's self-signed certificate, in \
         /etc/containers/certs.d/{host}/ca.crt or pass --cert-dir)"
    )
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
            Self::Http { error, .. } => {
                error.is_connect()
                    || error.is_timeout()
                    || error.is_body()
                    || error.is_request()
                    || error.is_decode()
            }
            Self::Status { status, .. } => is_retryable_status(*status),
            // `Exhausted` was retried already by the client that returned it.
            _ => false,
        }
    }

    /// Whether this is a "not found" of a manifest, blob or repository.
    pub fn is_not_found(&self) -> bool {
        if let Self::Exhausted(e) = self {
            return e.is_not_found();
        }
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
