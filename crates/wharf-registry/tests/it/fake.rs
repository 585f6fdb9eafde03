//! A tiny HTTP/1.1 server on a free loopback port, scripted per test: one connection per request
//! (`Connection: close`), so that a reply can be cut mid-body to look like a reset.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use wharf_oci::digest::sha256;
use wharf_registry::{RegistryClient, RegistryError};

use crate::{bytes, isolated_opts};

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close the connection after this many body bytes (Content-Length still says all).
    cut_after: Option<usize>,
    /// Send the body in pieces of this size with this pause between them.
    trickle: Option<(usize, Duration)>,
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        body: body.to_vec(),
        ..Reply::default()
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

struct Fake {
    addr: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Fake {
    /// Starts serving; `/v2/` answers 200 unless the handler says otherwise. The handler gets
    /// each request and how many requests for the same path came before it.
    async fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(10), sock.read(&mut tmp))
                            .await
                        {
                            Ok(Ok(0) | Err(_)) | Err(_) => return,
                            Ok(Ok(n)) => buf.extend_from_slice(&tmp[..n]),
                        }
                        // A TLS ClientHello (the https probe of an insecure registry): hang up.
                        if buf.first() == Some(&0x16) {
                            return;
                        }
                        if buf.len() > 65536 {
                            return;
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let mut lines = text.split("\r\n");
                    let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
                    if first.len() < 3 || !first[2].starts_with("HTTP/") {
                        return; // a TLS hello or garbage: hang up
                    }
                    let headers = lines
                        .take_while(|l| !l.is_empty())
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let req = Request {
                        method: first[0].to_owned(),
                        path: first[1].to_owned(),
                        headers,
                    };
                    let n = {
                        let mut s = seen.lock().unwrap();
                        let n = s.iter().filter(|r| r.path == req.path).count();
                        s.push(req.clone());
                        n
                    };
                    let r = if req.path == "/v2/" {
                        reply(200, b"{}")
                    } else {
                        handler(&req, n)
                    };
                    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", r.status);
                    if !r
                        .headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    {
                        head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                    }
                    for (k, v) in &r.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    if req.method == "HEAD" {
                        return;
                    }
                    let body = match r.cut_after {
                        Some(c) => &r.body[..c.min(r.body.len())],
                        None => &r.body[..],
                    };
                    match r.trickle {
                        Some((size, pause)) => {
                            for piece in body.chunks(size) {
                                if sock.write_all(piece).await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(pause).await;
                            }
                        }
                        None => {
                            let _ = sock.write_all(body).await;
                        }
                    }
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { addr, seen }
    }

    fn client(&self, dir: &std::path::Path) -> RegistryClient {
        let mut opts = isolated_opts(dir);
        opts.tls_verify = Some(false);
        RegistryClient::new(&self.addr, &opts).unwrap()
    }

    fn requests(&self, path_part: &str) -> Vec<Request> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.contains(path_part))
            .cloned()
            .collect()
    }
}

const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

fn manifest_reply() -> Reply {
    let mut r = reply(200, MANIFEST);
    r.headers.push((
        "Content-Type".into(),
        "application/vnd.oci.image.manifest.v1+json".into(),
    ));
    r
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let fake = Fake::start(|_, n| {
        if n == 0 {
            let mut r = reply(
                429,
                br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
            );
            r.headers.push(("Retry-After".into(), "1".into()));
            r
        } else {
            manifest_reply()
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let m = fake
        .client(dir.path())
        .get_manifest("a/b", "v1")
        .await
        .unwrap();
    // The backoff base is 10 ms: only Retry-After explains a wait of a second.
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(m.digest, sha256(MANIFEST));
    assert_eq!(fake.requests("/manifests/").len(), 2);
}

#[tokio::test]
async fn unavailable_then_success_and_unavailable_for_good() {
    let fake = Fake::start(|req, n| {
        if req.path.contains("always") {
            return reply(503, b"down");
        }
        if n < 2 {
            reply(503, b"busy")
        } else {
            manifest_reply()
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let c = fake.client(dir.path());
    let m = c.get_manifest("a/b", "v1").await.unwrap();
    assert_eq!(m.bytes.as_ref(), MANIFEST);
    assert_eq!(fake.requests("a/b/manifests").len(), 3);
    let e = c.get_manifest("always/b", "v1").await.unwrap_err();
    // Retried already: the last answer, marked so that no caller retries it again.
    assert!(
        matches!(&e, RegistryError::Exhausted(last) if matches!(**last, RegistryError::Status { status: 503, .. })),
        "{e}"
    );
    assert!(!e.is_retryable());
    // One attempt and three retries.
    assert_eq!(fake.requests("always/b/manifests").len(), 4);
}

#[tokio::test]
async fn reset_mid_body_resumes_with_range() {
    let blob = Arc::new(bytes(200_000, 5));
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let fake = Fake::start(move |req, n| {
        if n == 0 {
            let mut r = reply(200, &b2);
            r.cut_after = Some(70_000);
            return r;
        }
        let from: usize = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        let mut r = reply(206, &b2[from..]);
        r.headers.push((
            "Content-Range".into(),
            format!("bytes {from}-{}/{}", b2.len() - 1, b2.len()),
        ));
        r
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let c = fake.client(dir.path());
    let mut reader = c.get_blob("a/b", &digest, Some(200_000)).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        out.extend_from_slice(&chunk);
    }
    assert!(out == *blob);
    assert_eq!(reader.resumed(), 1);
    let gets = fake.requests("/blobs/");
    assert_eq!(gets.len(), 2);
    let range = gets[1].header("range").unwrap().to_owned();
    let resumed_at: u64 = range["bytes=".len()..range.len() - 1].parse().unwrap();
    assert!(resumed_at > 0 && resumed_at <= 70_000, "{range}");
}

#[tokio::test]
async fn registry_ignoring_range_restarts_and_still_verifies() {
    let blob = Arc::new(bytes(100_000, 6));
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let fake = Fake::start(move |_, n| {
        let mut r = reply(200, &b2);
        if n == 0 {
            r.cut_after = Some(40_000);
        }
        r
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    fake.client(dir.path())
        .get_blob("a/b", &digest, None)
        .await
        .unwrap()
        .copy_to(&mut out)
        .await
        .unwrap();
    assert!(out == *blob);
}

#[tokio::test]
async fn slow_body_is_streamed_to_the_end() {
    let blob = Arc::new(bytes(64 * 1024, 7));
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let fake = Fake::start(move |_, _| {
        let mut r = reply(200, &b2);
        r.trickle = Some((8 * 1024, Duration::from_millis(40)));
        r
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut reader = fake
        .client(dir.path())
        .get_blob("a/b", &digest, Some(blob.len() as u64))
        .await
        .unwrap();
    let mut pieces = 0;
    let mut total = 0;
    while let Some(c) = reader.next_chunk().await.unwrap() {
        pieces += 1;
        total += c.len();
    }
    assert_eq!(total, blob.len());
    // Delivered as it arrived, not buffered whole.
    assert!(pieces >= 4, "{pieces}");
}

#[tokio::test]
async fn wrong_bytes_are_refused_naming_the_digest() {
    let claimed = sha256(b"the real content");
    let fake = Fake::start(|req, _| {
        if req.path.contains("/manifests/") {
            manifest_reply()
        } else {
            reply(200, b"some other content")
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let c = fake.client(dir.path());
    let mut reader = c.get_blob("a/b", &claimed, None).await.unwrap();
    let e = loop {
        match reader.next_chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a wrong blob ended successfully"),
            Err(e) => break e,
        }
    };
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&claimed.to_string()), "{e}");
    // Through AsyncRead the error surfaces as an io::Error.
    let mut r = c
        .get_blob("a/b", &claimed, None)
        .await
        .unwrap()
        .into_async_read();
    let mut sink = Vec::new();
    let e = tokio::io::AsyncReadExt::read_to_end(&mut r, &mut sink)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(&claimed.to_string()), "{e}");
    // A declared size that the body exceeds.
    let e = c
        .get_blob("a/b", &claimed, Some(3))
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, RegistryError::SizeMismatch { .. }), "{e}");
    // A manifest fetched by a digest it does not have.
    let e = c.get_manifest("a/b", claimed.as_ref()).await.unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&claimed.to_string()), "{e}");
}

#[tokio::test]
async fn bearer_tokens_are_fetched_per_scope_cached_and_refreshed() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let t2 = tokens.clone();
    let addr: Arc<Mutex<String>> = Arc::default();
    let a2 = addr.clone();
    let fake = Fake::start(move |req, _| {
        if req.path.starts_with("/token") {
            let n = t2.fetch_add(1, Ordering::SeqCst);
            return reply(200, format!(r#"{{"token":"tok{n}","expires_in":300}}"#).as_bytes());
        }
        // Token tok0 is "expired" on the server: refused once, then tok1 works.
        let ok = matches!(req.header("authorization"), Some(a) if a.starts_with("Bearer tok") && a != "Bearer tok0");
        if ok {
            return manifest_reply();
        }
        let realm = format!("http://{}/token", a2.lock().unwrap());
        let mut r = reply(401, br#"{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}"#);
        r.headers.push((
            "WWW-Authenticate".into(),
            format!(r#"Bearer realm="{realm}",service="fake",scope="repository:a/b:pull""#),
        ));
        r
    })
    .await;
    *addr.lock().unwrap() = fake.addr.clone();
    let dir = tempfile::tempdir().unwrap();
    let c = fake.client(dir.path());
    c.get_manifest("a/b", "v1").await.unwrap();
    c.get_manifest("a/b", "v2").await.unwrap();
    // tok0 refused, tok1 fetched and then reused for the second manifest.
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    let token_reqs = fake.requests("/token");
    assert!(
        token_reqs[0]
            .path
            .contains("scope=repository%3Aa%2Fb%3Apull"),
        "{}",
        token_reqs[0].path
    );
    assert!(token_reqs[0].path.contains("service=fake"));
    // No credentials were sent to the token server (none are configured).
    assert!(token_reqs[0].header("authorization").is_none());
}

/// Security finding 11: a registry that sends a body one byte at a time kept a pull alive
/// forever (each byte came within `read_timeout`). Below the low-speed limit for a whole
/// window, blobs (after their resumes) and manifests fail, naming the URL and the limit.
#[tokio::test]
async fn a_body_sent_one_byte_at_a_time_fails_at_the_low_speed_limit() {
    let blob = bytes(4096, 11);
    let digest = sha256(&blob);
    let b2 = blob.clone();
    let fake = Fake::start(move |req, _| {
        let mut r = if req.path.contains("/manifests/") {
            manifest_reply()
        } else {
            reply(200, &b2)
        };
        r.trickle = Some((1, Duration::from_millis(100)));
        r
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = isolated_opts(dir.path());
    opts.tls_verify = Some(false);
    opts.low_speed_limit = 100;
    opts.low_speed_time = Duration::from_secs(1);
    opts.retry.times = 1;
    let client = RegistryClient::new(&fake.addr, &opts).unwrap();

    let started = Instant::now();
    let mut reader = client
        .get_blob("a/b", &digest, Some(blob.len() as u64))
        .await
        .unwrap();
    let err = loop {
        match reader.next_chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a trickled blob was accepted"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, RegistryError::TooSlow { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/blobs/") && text.contains("WHARF_LOW_SPEED_LIMIT"),
        "{text}"
    );
    // One window, one resume, one more window: far from the 4096 s the body would take.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        fake.requests("/blobs/").len(),
        2,
        "resumed once, as the retry policy says"
    );

    let err = client.get_manifest("a/b", "latest").await.unwrap_err();
    assert!(matches!(err, RegistryError::TooSlow { .. }), "{err:?}");
}
