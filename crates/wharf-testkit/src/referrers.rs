//! A registry that serves the OCI 1.1 referrers API: a small HTTP proxy in front of a real
//! `docker-registry` (which has no referrers API, only the tag fallback), adding exactly what
//! distribution 1.1 adds. Debian packages no registry with the API (no zot, no distribution
//! 3), so this is the one fake part, and it fakes only the referrers API: every other request,
//! blobs and manifests included, is served by the real registry behind it.
//!
//! - `PUT /v2/<name>/manifests/<ref>` is forwarded; when the registry accepts a manifest with a
//!   `subject`, the proxy records it and answers with `OCI-Subject: <subject digest>`.
//! - `GET /v2/<name>/referrers/<digest>[?artifactType=T]` answers an OCI index of the recorded
//!   referrers (with `OCI-Filters-Applied: artifactType` when filtered).
//! - [`ReferrersRegistry::serve_raw`] makes a referrers answer hostile (any bytes), for tests.
//!
//! One request per connection (`Connection: close`), so the proxy never has to find where a
//! streamed body ends: the client reconnects, as HTTP lets it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use sha2::Digest as _;

use crate::registry::Registry;

/// A request or status line and its headers.
type Head = (String, Vec<(String, String)>);

/// (repository, subject digest) -> referrer descriptors (JSON objects).
type Index = HashMap<(String, String), Vec<serde_json::Value>>;

#[derive(Default)]
struct State {
    referrers: Index,
    /// (repository, subject digest) -> the raw body to answer instead.
    raw: HashMap<(String, String), Vec<u8>>,
}

/// A `docker-registry` behind a proxy that serves the referrers API; both stop on drop.
pub struct ReferrersRegistry {
    registry: Registry,
    addr: String,
    state: Arc<Mutex<State>>,
    listener: Option<TcpListener>,
}

impl std::fmt::Debug for ReferrersRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferrersRegistry")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ReferrersRegistry {
    /// Starts a plain registry and the proxy, or `None` (after `SKIP:`) without
    /// `docker-registry`.
    pub fn start() -> Option<Self> {
        let registry = Registry::start_plain()?;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the referrers proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let (upstream, st) = (registry.addr().to_owned(), Arc::clone(&state));
        let accept = listener.try_clone().expect("clone listener");
        thread::spawn(move || {
            for conn in accept.incoming() {
                let Ok(conn) = conn else { break };
                let (upstream, st) = (upstream.clone(), Arc::clone(&st));
                thread::spawn(move || {
                    let _ = handle(&conn, &upstream, &st);
                });
            }
        });
        Some(Self {
            registry,
            addr,
            state,
            listener: Some(listener),
        })
    }

    /// `127.0.0.1:PORT` of the proxy (the registry clients talk to).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The real registry behind the proxy (its own address has no referrers API).
    pub fn backend(&self) -> &Registry {
        &self.registry
    }

    /// Answers `GET /v2/<repository>/referrers/<subject>` with `body` from now on.
    pub fn serve_raw(&self, repository: &str, subject: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .raw
            .insert((repository.to_owned(), subject.to_owned()), body);
    }

    /// How many referrers the proxy recorded for `subject` in `repository`.
    pub fn recorded(&self, repository: &str, subject: &str) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .referrers
            .get(&(repository.to_owned(), subject.to_owned()))
            .map_or(0, Vec::len)
    }
}

impl Drop for ReferrersRegistry {
    fn drop(&mut self) {
        // Wake the accept loop so that it sees the listener closed.
        if let Some(l) = self.listener.take() {
            drop(l);
            let _ = TcpStream::connect(&self.addr);
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request head for the registry, asking it to close after answering.
    fn head(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (n, v) in &self.headers {
            if !n.eq_ignore_ascii_case("connection") {
                let _ = write!(out, "{n}: {v}\r\n");
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut first = String::new();
    if r.read_line(&mut first)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some((first.trim_end().to_owned(), headers)))
}

fn respond(mut w: impl std::io::Write, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    out.push_str("\r\n");
    let _ = w.write_all(out.as_bytes());
    let _ = w.write_all(body);
    let _ = w.flush();
}

fn handle(conn: &TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let Some((first, headers)) = read_head(&mut reader)? else {
        return Ok(());
    };
    let mut parts = first.split(' ');
    let req = Request {
        method: parts.next().unwrap_or_default().to_owned(),
        path: parts.next().unwrap_or_default().to_owned(),
        headers,
    };
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    if req.method == "GET"
        && let Some((repo, subject)) = path
            .strip_prefix("/v2/")
            .and_then(|p| p.rsplit_once("/referrers/"))
    {
        let artifact_type = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("artifactType="))
            .map(|t| t.replace("%2F", "/").replace("%2B", "+"));
        let key = (repo.to_owned(), subject.to_owned());
        let st = state.lock().unwrap_or_else(PoisonError::into_inner);
        let ct = (
            "Content-Type",
            "application/vnd.oci.image.index.v1+json".to_owned(),
        );
        if let Some(raw) = st.raw.get(&key) {
            respond(conn, "200 OK", &[ct], raw);
            return Ok(());
        }
        let entries: Vec<&serde_json::Value> = st
            .referrers
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|d| {
                artifact_type
                    .as_deref()
                    .is_none_or(|t| d["artifactType"].as_str() == Some(t))
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }))
        .unwrap_or_default();
        let mut headers = vec![ct];
        if artifact_type.is_some() {
            headers.push(("OCI-Filters-Applied", "artifactType".to_owned()));
        }
        respond(conn, "200 OK", &headers, &body);
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&req.head())?;
    // A manifest PUT carries a Content-Length (its body is needed to find its subject); any
    // other body streams through as the client sends it.
    let mut manifest = None;
    if req.method == "PUT"
        && let Some(repo) = path
            .strip_prefix("/v2/")
            .and_then(|p| p.rsplit_once("/manifests/"))
            .map(|(r, _)| r.to_owned())
        && let Some(len) = req
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
    {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        up.write_all(&body)?;
        manifest = Some((
            repo,
            body,
            req.header("content-type").unwrap_or_default().to_owned(),
        ));
    }
    let mut to_up = up.try_clone()?;
    let pump = thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut to_up);
    });
    let mut from_up = BufReader::new(up.try_clone()?);
    let Some((status, mut headers)) = read_head(&mut from_up)? else {
        return Ok(());
    };
    if let Some((repo, body, media_type)) = manifest
        && status.split(' ').nth(1).is_some_and(|c| c.starts_with('2'))
        && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body)
        && let Some(subject) = doc["subject"]["digest"].as_str()
    {
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(&body));
        let artifact_type = doc["artifactType"]
            .as_str()
            .or_else(|| doc["config"]["mediaType"].as_str())
            .unwrap_or_default();
        let mut desc = serde_json::json!({
            "mediaType": doc["mediaType"].as_str().unwrap_or(&media_type),
            "digest": digest,
            "size": body.len(),
            "artifactType": artifact_type,
        });
        if doc["annotations"].is_object() {
            desc["annotations"] = doc["annotations"].clone();
        }
        let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
        let list = st.referrers.entry((repo, subject.to_owned())).or_default();
        if !list.iter().any(|d| d["digest"] == desc["digest"]) {
            list.push(desc);
        }
        headers.push(("OCI-Subject".to_owned(), subject.to_owned()));
    }
    let mut client = conn;
    let mut head = format!("{status}\r\n");
    for (n, v) in &headers {
        if !n.eq_ignore_ascii_case("connection") {
            let _ = write!(head, "{n}: {v}\r\n");
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes())?;
    std::io::copy(&mut from_up, &mut client)?;
    let _ = conn.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
    let _ = pump.join();
    Ok(())
}
