//! Per-request authorization: basic credentials, or bearer tokens fetched from the realm a
//! challenge names, cached per scope until they expire or a request is refused with 401.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::auth_file::Credentials;
use crate::challenge::Challenge;
use crate::error::{RegistryError, Result};

/// What a request needs access to, as a token scope: `repository:NAME:ACTIONS`, plus the
/// source repository of a cross-repository mount.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub repository: String,
    pub actions: &'static str,
    /// A second repository pulled from (cross-repository mount).
    pub from: Option<String>,
}

impl Scope {
    pub fn pull(repository: &str) -> Self {
        Self {
            repository: repository.to_owned(),
            actions: "pull",
            from: None,
        }
    }

    pub fn push(repository: &str) -> Self {
        Self {
            repository: repository.to_owned(),
            actions: "pull,push",
            from: None,
        }
    }

    pub fn delete(repository: &str) -> Self {
        Self {
            repository: repository.to_owned(),
            actions: "delete",
            from: None,
        }
    }

    /// The `scope` query values of a token request.
    pub fn to_params(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.repository.is_empty() {
            v.push(format!("repository:{}:{}", self.repository, self.actions));
        }
        if let Some(from) = &self.from {
            v.push(format!("repository:{from}:pull"));
        }
        v
    }
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    expires: Instant,
}

/// The authentication state of one registry.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    pub challenge: Option<Challenge>,
    tokens: HashMap<Scope, Token>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl AuthState {
    /// The cached, unexpired token for a scope.
    pub fn cached(&self, scope: &Scope) -> Option<String> {
        self.tokens
            .get(scope)
            .filter(|t| t.expires > Instant::now())
            .map(|t| t.value.clone())
    }

    pub fn store(&mut self, scope: Scope, value: String, lifetime: Duration) {
        // Renew a little early, so a token never expires in flight.
        let lifetime = lifetime.saturating_sub(Duration::from_secs(10).min(lifetime / 2));
        self.tokens.insert(
            scope,
            Token {
                value,
                expires: Instant::now() + lifetime,
            },
        );
    }

    pub fn forget(&mut self, scope: &Scope) {
        self.tokens.remove(scope);
    }
}

/// `Authorization: Basic ...` for credentials.
pub fn basic_header(creds: &Credentials) -> String {
    format!(
        "Basic {}",
        B64.encode(format!("{}:{}", creds.username, creds.password))
    )
}

/// Fetches a bearer token for `scope` from the realm of a `Bearer` challenge, with the
/// credentials when there are any (an identity token is exchanged with the OAuth2
/// refresh-token grant, like Docker does).
pub(crate) async fn fetch_token(
    http: &reqwest::Client,
    host: &str,
    challenge: &Challenge,
    scope: &Scope,
    creds: Option<&Credentials>,
) -> Result<(String, Duration)> {
    let realm = challenge.param("realm").unwrap_or_default();
    let terr = |what: String| RegistryError::Token {
        realm: realm.to_owned(),
        what,
    };
    let mut url = reqwest::Url::parse(realm).map_err(|e| terr(format!("bad realm url: {e}")))?;
    let service = challenge.param("service");
    let scopes = scope.to_params();
    let req = match creds {
        Some(c) if c.username == "<token>" => {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &c.password),
                ("client_id", "wharf"),
            ];
            if let Some(s) = service {
                form.push(("service", s));
            }
            let joined = scopes.join(" ");
            if !joined.is_empty() {
                form.push(("scope", &joined));
            }
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", form_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        }
        _ => {
            {
                let mut q = url.query_pairs_mut();
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
                for s in &scopes {
                    q.append_pair("scope", s);
                }
            }
            let mut r = http.get(url);
            if let Some(c) = creds {
                r = r.header("authorization", basic_header(c));
            }
            r
        }
    };
    let resp = req
        .send()
        .await
        .map_err(|e| terr(format!("request failed: {e}")))?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(RegistryError::Unauthorized {
            host: host.to_owned(),
            had_credentials: creds.is_some(),
            detail: Some(format!("token server {realm} answered {status}")),
        });
    }
    if !status.is_success() {
        return Err(terr(format!("answered {status}")));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| terr(format!("reading the answer: {e}")))?;
    let answer: TokenAnswer =
        serde_json::from_slice(&body).map_err(|e| terr(format!("unreadable answer: {e}")))?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| terr("answer has no token".to_owned()))?;
    // The distribution token spec: 60 seconds when the server does not say.
    let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(60).max(1));
    Ok((token, lifetime))
}

fn form_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_cache_expiry() {
        let mut s = Scope::push("a/b");
        assert_eq!(s.to_params(), ["repository:a/b:pull,push"]);
        s.from = Some("c".into());
        assert_eq!(
            s.to_params(),
            ["repository:a/b:pull,push", "repository:c:pull"]
        );
        let mut st = AuthState::default();
        st.store(Scope::pull("x"), "t".into(), Duration::from_mins(1));
        assert_eq!(st.cached(&Scope::pull("x")).as_deref(), Some("t"));
        assert_eq!(st.cached(&Scope::push("x")), None);
        st.store(Scope::pull("y"), "t".into(), Duration::ZERO);
        assert_eq!(st.cached(&Scope::pull("y")), None);
        st.forget(&Scope::pull("x"));
        assert_eq!(st.cached(&Scope::pull("x")), None);
        assert_eq!(form_encode("a b/c"), "a%20b%2Fc");
    }
}
