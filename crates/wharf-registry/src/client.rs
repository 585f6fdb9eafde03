//! The client of one registry host: connection set-up (TLS, plain-HTTP fallback for insecure
//! registries), the `/v2/` ping, and the request loop every operation goes through, which adds
//! authorization, answers 401 challenges once, and retries what can be retried.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::sync::OnceCell;

use crate::auth::{AuthState, Scope, basic_header, fetch_token};
use crate::auth_file::{Credentials, find_credentials};
use crate::challenge::{self, Challenge};
use crate::error::{RegistryError, Result, is_retryable_status};
use crate::paths::ConfigPaths;
use crate::registries_conf::RegistriesConf;
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::tls;

/// How to reach and authenticate to a registry; one value serves every host.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub paths: ConfigPaths,
    /// `--tls-verify`: `Some(false)` allows plain HTTP and unverified TLS; `None` defers to
    /// registries.conf `insecure`.
    pub tls_verify: Option<bool>,
    /// `--cert-dir`: replaces the certs.d lookup.
    pub cert_dir: Option<PathBuf>,
    /// `--creds`: replaces the auth-file lookup.
    pub creds: Option<Credentials>,
    /// `--authfile`: the only auth file consulted.
    pub authfile: Option<PathBuf>,
    /// `--no-creds`: access the registry anonymously, whatever the auth files hold.
    pub anonymous: bool,
    /// Parsed registries.conf, for `insecure` and `blocked`.
    pub registries: Option<Arc<RegistriesConf>>,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Per-request connect timeout; also bounds the https probe of an insecure registry.
    pub connect_timeout: Duration,
    /// The longest wait for the next piece of a response.
    pub read_timeout: Duration,
    /// A body that delivers fewer bytes per second than this for [`Self::low_speed_time`]
    /// fails (0: no limit); `$WHARF_LOW_SPEED_LIMIT`, else
    /// [`crate::speed::DEFAULT_LOW_SPEED_LIMIT`].
    pub low_speed_limit: u64,
    /// The window of [`Self::low_speed_limit`]; `$WHARF_LOW_SPEED_TIME` (seconds), else
    /// [`crate::speed::DEFAULT_LOW_SPEED_TIME`].
    pub low_speed_time: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            paths: ConfigPaths::from_env(),
            tls_verify: None,
            cert_dir: None,
            creds: None,
            authfile: None,
            anonymous: false,
            registries: None,
            retry: RetryPolicy::default(),
            user_agent: format!("wharf/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_mins(2),
            low_speed_limit: env_u64("WHARF_LOW_SPEED_LIMIT")
                .unwrap_or(crate::speed::DEFAULT_LOW_SPEED_LIMIT),
            low_speed_time: env_u64("WHARF_LOW_SPEED_TIME")
                .map_or(crate::speed::DEFAULT_LOW_SPEED_TIME, Duration::from_secs),
        }
    }
}

/// A whole number from the environment; unset or malformed is `None` (the default applies).
fn env_u64(var: &str) -> Option<u64> {
    std::env::var(var).ok()?.trim().parse().ok()
}

/// What `GET /v2/` told.
#[derive(Debug, Clone)]
pub struct PingInfo {
    /// `https://host` or `http://host`.
    pub base: Url,
    /// The `Docker-Distribution-API-Version` header (`registry/2.0`).
    pub api_version: Option<String>,
    /// The authentication the registry asks for; `None` for anonymous access.
    pub challenge: Option<Challenge>,
}

/// A client for one registry host. Cheap to clone; clones share tokens and connections.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// The host as references name it (`docker.io`, `127.0.0.1:5000`).
    pub host: String,
    /// The host the API lives on (`registry-1.docker.io` for `docker.io`).
    pub api_host: String,
    pub http: reqwest::Client,
    pub insecure: bool,
    /// Which certificate directory was read, for TLS errors.
    pub cert_note: String,
    pub opts: ClientOptions,
    pub ping: OnceCell<PingInfo>,
    pub auth: Mutex<AuthState>,
    creds_cache: Mutex<HashMap<String, Option<Credentials>>>,
}

/// A request body: replayable bytes, or a one-shot stream that makes the request unretryable
/// once sent.
pub(crate) enum ReqBody {
    Empty,
    Bytes(bytes::Bytes),
    Stream(Option<reqwest::Body>),
}

impl ReqBody {
    fn replayable(&self) -> bool {
        !matches!(self, Self::Stream(_))
    }
}

/// One request through [`RegistryClient::send`].
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: ReqBody,
    pub scope: Scope,
}

impl Req {
    pub fn new(method: Method, url: Url, scope: Scope) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: ReqBody::Empty,
            scope,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

fn check_host(host: &str) -> Result<()> {
    let bad = |why| RegistryError::BadHost {
        host: host.to_owned(),
        why,
    };
    if host.is_empty() {
        return Err(bad("empty"));
    }
    if host.contains(['/', '@', ' ', '?', '#']) || host.starts_with("http") && host.contains("://")
    {
        return Err(bad("expected HOST[:PORT] without scheme or path"));
    }
    Ok(())
}

/// The HTTP client every request to `host` goes through, registry API or plain download: the
/// system's trust plus the host's certificate directory (certs.d, `--cert-dir`; client
/// certificates), the environment's proxies, Wharf's user agent and timeouts. Also returns the
/// note errors give about which certificate directory was read.
pub(crate) fn http_client(
    host: &str,
    opts: &ClientOptions,
    insecure: bool,
) -> Result<(reqwest::Client, String)> {
    let certs = tls::cert_dir_for(&opts.paths, opts.cert_dir.as_deref(), host)?;
    let cert_note = match &certs.path {
        Some(p) => format!("certificate directory read: {}", p.display()),
        None if opts.cert_dir.is_none() => format!(
            "no certificate directory found, looked in {}",
            opts.paths
                .cert_dirs(host)
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "no certificate directory".to_owned(),
    };
    let tls = tls::client_config(&certs, insecure)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .user_agent(opts.user_agent.clone())
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .build()
        .map_err(|source| RegistryError::ClientBuild {
            host: host.to_owned(),
            source,
        })?;
    Ok((http, cert_note))
}

impl RegistryClient {
    /// A client for `host` (`HOST[:PORT]`). Reads the certificate directory now; the registry
    /// itself is contacted on the first request.
    pub fn new(host: &str, opts: &ClientOptions) -> Result<Self> {
        check_host(host)?;
        let api_host = if host == "docker.io" {
            "registry-1.docker.io".to_owned()
        } else {
            host.to_owned()
        };
        let insecure = match opts.tls_verify {
            Some(v) => !v,
            // The process's registries.conf when the caller did not load one (login, tags,
            // delete and the build cache reach registries this way too).
            None => opts.registries_conf()?.is_insecure(host),
        };
        let (http, cert_note) = http_client(host, opts, insecure)?;
        Ok(Self {
            inner: Arc::new(Inner {
                host: host.to_owned(),
                api_host,
                http,
                insecure,
                cert_note,
                opts: opts.clone(),
                ping: OnceCell::new(),
                auth: Mutex::new(AuthState::default()),
                creds_cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The registry host this client talks to, as references name it.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// Whether plain HTTP and unverified certificates are allowed for this host.
    pub fn is_insecure(&self) -> bool {
        self.inner.insecure
    }

    /// `GET /v2/`: finds the scheme (https first; plain http only for insecure registries),
    /// the API version, and the challenge. Done once; later calls return the same answer.
    pub async fn ping(&self) -> Result<&PingInfo> {
        self.inner.ping.get_or_try_init(|| self.do_ping()).await
    }

    async fn do_ping(&self) -> Result<PingInfo> {
        // An insecure registry is asked both ways at once: trying https first and plain http
        // only after it failed cost one or two round trips (connect, hello) before the
        // fallback started, per registry per command. https still wins whenever it answers:
        // the plain answer is used only once https has failed, as before.
        let plain = self.ping_scheme("http");
        tokio::pin!(plain);
        let mut plain_answer: Option<Result<PingInfo>> = None;
        let https = {
            let https = self.ping_scheme("https");
            tokio::pin!(https);
            loop {
                tokio::select! {
                    r = &mut https => break r,
                    r = &mut plain, if self.inner.insecure && plain_answer.is_none() => {
                        plain_answer = Some(r);
                    }
                }
            }
        };
        match https {
            Ok(p) => Ok(p),
            Err(e @ RegistryError::Http { .. }) if self.inner.insecure => {
                tracing::debug!(host = %self.inner.host, error = %e, "https failed; using plain http");
                match plain_answer {
                    Some(answer) => answer,
                    None => plain.await,
                }
            }
            Err(RegistryError::Http { error, .. }) if is_tls_error(&error) => {
                let problem = crate::error::cause_text(&error);
                // rustls's words for a server that answered the hello with plain text.
                let plain_http =
                    problem.contains("InvalidContentType") || problem.contains("corrupt message");
                Err(RegistryError::Tls {
                    host: self.inner.host.clone(),
                    problem: tls_problem(&problem),
                    certs: self.inner.cert_note.clone(),
                    plain_http,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn ping_scheme(&self, scheme: &str) -> Result<PingInfo> {
        let base = Url::parse(&format!("{scheme}://{}/", self.inner.api_host)).map_err(|_| {
            RegistryError::BadHost {
                host: self.inner.host.clone(),
                why: "not a valid URL host",
            }
        })?;
        let url = base.join("v2/").unwrap_or_else(|_| base.clone());
        let mut attempt = 0;
        let resp = loop {
            let mut rb = self.inner.http.get(url.clone());
            if self.inner.insecure && scheme == "https" {
                // A plain-HTTP server may never answer a TLS hello; do not wait long for it.
                rb = rb.timeout(self.inner.opts.connect_timeout.min(Duration::from_secs(10)));
            }
            let r = rb.send().await;
            match r {
                Ok(r)
                    if is_retryable_status(r.status().as_u16())
                        && attempt < self.inner.opts.retry.times =>
                {
                    let after = retry_after(&r);
                    tokio::time::sleep(self.inner.opts.retry.wait(attempt, after)).await;
                }
                Ok(r) => break r,
                // A refused or failed connection is retried only when a fallback cannot
                // answer for it: the https attempt of an insecure registry fails fast.
                Err(e)
                    if (e.is_timeout() || e.is_connect() && !self.inner.insecure)
                        && attempt < self.inner.opts.retry.times
                        && !is_tls_error(&e) =>
                {
                    tokio::time::sleep(self.inner.opts.retry.wait(attempt, None)).await;
                }
                Err(source) => {
                    return Err(RegistryError::Http {
                        method: "GET".to_owned(),
                        url: url.to_string(),
                        error: source,
                    });
                }
            }
            attempt += 1;
        };
        let api_version = resp
            .headers()
            .get("docker-distribution-api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = resp.status();
        let challenge = if status == StatusCode::UNAUTHORIZED {
            pick_challenge(&resp)
        } else if status.is_success() {
            None
        } else {
            return Err(status_error(resp, "GET").await);
        };
        if let Some(v) = &api_version
            && !v.starts_with("registry/2.")
        {
            return Err(RegistryError::BadResponse {
                url: url.to_string(),
                what: format!("unsupported Docker-Distribution-API-Version {v:?}"),
            });
        }
        Ok(PingInfo {
            base,
            api_version,
            challenge,
        })
    }

    /// `https://host/v2/<repository>/<rest>`.
    pub(crate) async fn url(&self, repository: &str, rest: &str) -> Result<Url> {
        let base = &self.ping().await?.base;
        let s = format!("{base}v2/{repository}/{rest}");
        Url::parse(&s).map_err(|e| RegistryError::BadResponse {
            url: s.clone(),
            what: format!("cannot form a URL for repository {repository:?}: {e}"),
        })
    }

    /// Resolves a `Location` header against the registry base.
    pub(crate) fn resolve_location(from: &Url, resp: &Response) -> Result<Url> {
        let value = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::BadResponse {
                url: from.to_string(),
                what: "missing Location header".to_owned(),
            })?;
        from.join(value).map_err(|_| RegistryError::BadHeader {
            url: from.to_string(),
            header: "Location",
            value: value.to_owned(),
        })
    }

    /// The credentials for a repository: none when anonymous, `--creds`, else the auth files
    /// (cached).
    pub(crate) fn credentials(&self, repository: &str) -> Result<Option<Credentials>> {
        if self.inner.opts.anonymous {
            return Ok(None);
        }
        if let Some(c) = &self.inner.opts.creds {
            return Ok(Some(c.clone()));
        }
        let mut cache = self
            .inner
            .creds_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = cache.get(repository) {
            return Ok(c.clone());
        }
        let found = find_credentials(
            &self.inner.opts.paths,
            self.inner.opts.authfile.as_deref(),
            &self.inner.host,
            repository,
        )?;
        cache.insert(repository.to_owned(), found.clone());
        Ok(found)
    }

    /// The `Authorization` value for a scope, fetching a token when needed.
    async fn authorization(&self, scope: &Scope) -> Result<Option<String>> {
        let challenge = {
            let st = self
                .inner
                .auth
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(t) = st.cached(scope) {
                return Ok(Some(format!("Bearer {t}")));
            }
            st.challenge.clone()
        };
        let Some(challenge) = challenge else {
            return Ok(None);
        };
        let creds = self.credentials(&scope.repository)?;
        match challenge.scheme.as_str() {
            "basic" => Ok(creds.as_ref().map(basic_header)),
            "bearer" => {
                let (token, lifetime) = fetch_token(
                    &self.inner.http,
                    &self.inner.host,
                    &challenge,
                    scope,
                    creds.as_ref(),
                )
                .await?;
                self.inner
                    .auth
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .store(scope.clone(), token.clone(), lifetime);
                Ok(Some(format!("Bearer {token}")))
            }
            _ => Ok(None),
        }
    }

    /// Sends a request with authorization, answering one 401 with a fresh token and retrying
    /// retryable failures while the body can be replayed. Returns any response that is not
    /// 401 or retryable; callers check the status.
    pub(crate) async fn send(&self, mut req: Req) -> Result<Response> {
        let ping = self.ping().await?;
        {
            let mut st = self
                .inner
                .auth
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if st.challenge.is_none() {
                st.challenge.clone_from(&ping.challenge);
            }
        }
        let policy = self.inner.opts.retry;
        let mut attempt = 0u32;
        // One fresh authorization per request; two when the first attempt went out without
        // any (the registry asked for auth the ping did not show, then the token may be stale).
        let mut reauths = 0u32;
        let mut reauth_limit = 1u32;
        loop {
            let auth = self.authorization(&req.scope).await?;
            let mut rb = self
                .inner
                .http
                .request(req.method.clone(), req.url.clone())
                .headers(req.headers.clone());
            if let Some(a) = &auth {
                rb = rb.header("authorization", a);
            }
            let can_replay = req.body.replayable();
            rb = match &mut req.body {
                ReqBody::Empty => rb,
                ReqBody::Bytes(b) => rb.body(b.clone()),
                ReqBody::Stream(s) => match s.take() {
                    Some(body) => rb.body(body),
                    None => {
                        return Err(RegistryError::BadResponse {
                            url: req.url.to_string(),
                            what: "a streamed request body cannot be sent twice".to_owned(),
                        });
                    }
                },
            };
            let result = rb.send().await;
            let resp = match result {
                Err(source) => {
                    let err = RegistryError::Http {
                        method: req.method.to_string(),
                        url: req.url.to_string(),
                        error: source,
                    };
                    if can_replay && err.is_retryable() {
                        if attempt < policy.times {
                            tracing::debug!(error = %err, attempt, "retrying");
                            tokio::time::sleep(policy.wait(attempt, None)).await;
                            attempt += 1;
                            continue;
                        }
                        return Err(RegistryError::Exhausted(Box::new(err)));
                    }
                    return Err(err);
                }
                Ok(r) => r,
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED {
                let had_credentials = self.credentials(&req.scope.repository)?.is_some();
                if auth.is_none() && reauths == 0 {
                    reauth_limit = 2;
                }
                if reauths < reauth_limit && can_replay {
                    // The token expired or lacks scope, or the registry wants auth we did not
                    // know about: learn the challenge and try once more.
                    let fresh = pick_challenge(&resp);
                    let mut st = self
                        .inner
                        .auth
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    st.forget(&req.scope);
                    if let Some(c) = fresh {
                        st.challenge = Some(c);
                    }
                    reauths += 1;
                    if had_credentials
                        || st.challenge.as_ref().is_some_and(|c| c.scheme == "bearer")
                    {
                        continue;
                    }
                }
                let detail = error_message(resp).await;
                return Err(RegistryError::Unauthorized {
                    host: self.inner.host.clone(),
                    had_credentials,
                    detail,
                });
            }
            if is_retryable_status(status.as_u16()) && can_replay {
                if attempt < policy.times {
                    let after = retry_after(&resp);
                    tracing::debug!(%status, ?after, attempt, url = %req.url, "retrying");
                    tokio::time::sleep(policy.wait(attempt, after)).await;
                    attempt += 1;
                    continue;
                }
                let method = req.method.to_string();
                return Err(RegistryError::Exhausted(Box::new(
                    status_error(resp, &method).await,
                )));
            }
            return Ok(resp);
        }
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.opts.retry
    }

    /// A fresh low-speed watchdog for one response body (`None` when the limit is off).
    pub(crate) fn watchdog(&self) -> Option<crate::speed::Watchdog> {
        crate::speed::Watchdog::new(
            self.inner.opts.low_speed_limit,
            self.inner.opts.low_speed_time,
        )
    }

    /// Turns a failed body read of `GET url` into the crate's error.
    pub(crate) fn chunk_error(&self, url: &str, e: crate::speed::ChunkError) -> RegistryError {
        match e {
            crate::speed::ChunkError::Http(source) => RegistryError::Http {
                method: "GET".to_owned(),
                url: url.to_owned(),
                error: source,
            },
            crate::speed::ChunkError::TooSlow { bytes, window } => RegistryError::TooSlow {
                url: url.to_owned(),
                bytes,
                seconds: window.as_secs(),
                limit: self.inner.opts.low_speed_limit,
            },
        }
    }
}

fn is_tls_error(e: &reqwest::Error) -> bool {
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        let text = s.to_string().to_ascii_lowercase();
        if text.contains("certificate")
            || text.contains("tls")
            || text.contains("handshake")
            || text.contains("corrupt message")
        {
            return true;
        }
        src = s.source();
    }
    false
}

/// The certificate problem out of a TLS error's text ("invalid peer certificate: UnknownIssuer"
/// becomes "UnknownIssuer: the certificate is not signed by a trusted CA").
fn tls_problem(text: &str) -> String {
    let core = text
        .rsplit("invalid peer certificate: ")
        .next()
        .unwrap_or(text)
        .trim();
    let why = match core {
        c if c.contains("UnknownIssuer") => "it is not signed by a trusted CA",
        c if c.contains("NotValidForName") => "it is not valid for this host name",
        c if c.contains("Expired") => "it has expired",
        c if c.contains("NotValidYet") => "it is not valid yet",
        c if c.contains("CaUsedAsEndEntity") => "it is a CA certificate used as the server's own",
        _ => "",
    };
    if why.is_empty() {
        core.to_owned()
    } else {
        format!("{why} ({core})")
    }
}

fn pick_challenge(resp: &Response) -> Option<Challenge> {
    let all: Vec<Challenge> = resp
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(challenge::parse)
        .collect();
    all.iter()
        .find(|c| c.scheme == "bearer")
        .or_else(|| all.iter().find(|c| c.scheme == "basic"))
        .cloned()
}

pub(crate) fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

#[derive(serde::Deserialize)]
struct ErrorsBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(serde::Deserialize)]
struct ErrorItem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// The first distribution-spec error code and message of a response body (read up to 64 KiB).
pub(crate) async fn error_code(resp: Response) -> (Option<String>, Option<String>) {
    let mut resp = resp;
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            break;
        }
    }
    match serde_json::from_slice::<ErrorsBody>(&body) {
        Ok(b) if !b.errors.is_empty() => {
            let e = &b.errors[0];
            (
                Some(e.code.clone()).filter(|c| !c.is_empty()),
                Some(e.message.clone()).filter(|m| !m.is_empty()),
            )
        }
        _ => {
            let text = String::from_utf8_lossy(&body).trim().to_owned();
            (None, Some(text).filter(|t| !t.is_empty() && t.len() < 300))
        }
    }
}

async fn error_message(resp: Response) -> Option<String> {
    match error_code(resp).await {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (c, m) => m.or(c),
    }
}

/// A generic error for an unexpected status.
pub(crate) async fn status_error(resp: Response, method: &str) -> RegistryError {
    let url = resp.url().to_string();
    let status = resp.status().as_u16();
    let (code, message) = error_code(resp).await;
    RegistryError::Status {
        method: method.to_owned(),
        url,
        status,
        code,
        message,
    }
}

/// What a 404 means for the operation that got it.
pub(crate) enum Missing<'a> {
    Manifest(&'a str),
    Blob(&'a wharf_oci::Digest),
    Repository,
}

impl RegistryClient {
    /// The error for an unexpected answer to an operation on `repository`.
    pub(crate) async fn fail(
        &self,
        resp: Response,
        method: &str,
        repository: &str,
        missing: Missing<'_>,
    ) -> RegistryError {
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let (code, message) = error_code(resp).await;
        let host = self.inner.host.clone();
        let repository = repository.to_owned();
        match (status, missing) {
            (404, _) if code.as_deref() == Some("NAME_UNKNOWN") => {
                RegistryError::RepositoryUnknown { host, repository }
            }
            (404, Missing::Manifest(reference)) => RegistryError::ManifestUnknown {
                host,
                repository,
                reference: reference.to_owned(),
            },
            (404, Missing::Blob(digest)) => RegistryError::BlobUnknown {
                host,
                repository,
                digest: digest.clone(),
            },
            (404, Missing::Repository) => RegistryError::RepositoryUnknown { host, repository },
            (403, _) => RegistryError::Denied {
                host,
                repository,
                detail: message.or(code),
            },
            _ => RegistryError::Status {
                method: method.to_owned(),
                url,
                status,
                code,
                message,
            },
        }
    }
}

/// Checks a repository name against the distribution-spec grammar
/// (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`), so that no
/// name can change the shape of a request URL.
pub fn check_repository(repository: &str) -> Result<()> {
    let ok = !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        });
    if ok {
        Ok(())
    } else {
        Err(RegistryError::BadName {
            kind: "repository name",
            name: repository.to_owned(),
            why: "expected lower-case letters, digits and . _ - in components separated by /",
        })
    }
}
