//! A real registry for tests: Debian's `docker-registry` (distribution 2.8) started on a free
//! loopback port with its own configuration and storage in a temporary directory.
//!
//! Two flavours: [`Registry::start_plain`] (plain HTTP, anonymous) and
//! [`Registry::start_tls_auth`] (TLS with a CA and server certificate generated here with
//! `rcgen`, htpasswd basic auth with a bcrypt entry made by `htpasswd -B`). Deleting is enabled.
//! The process is killed when the [`Registry`] is dropped.
//!
//! ```no_run
//! let Some(reg) = wharf_testkit::registry::Registry::start_plain() else { return };
//! assert!(reg.addr().starts_with("127.0.0.1:"));
//! ```

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary Debian's `docker-registry` package installs.
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running `docker-registry` process, killed on drop.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    dir: tempfile::TempDir,
    addr: String,
    tls: bool,
    creds: Option<(String, String)>,
}

/// TLS material written for a TLS registry (PEM).
#[allow(clippy::struct_field_names)]
struct TlsFiles {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    /// A client certificate and key signed by the CA, which the registry then requires.
    client: Option<(String, String)>,
}

impl Registry {
    /// Starts a plain-HTTP registry without authentication, or `None` (after `SKIP:`) when the
    /// binary is missing.
    pub fn start_plain() -> Option<Self> {
        Self::start(None, None)
    }

    /// Starts a TLS registry with htpasswd basic auth for `user`/`pass`; the CA that signed its
    /// certificate is at [`Registry::ca_cert`]. `None` (after `SKIP:`) when `docker-registry` or
    /// `htpasswd` (apache2-utils) is missing.
    pub fn start_tls_auth(user: &str, pass: &str) -> Option<Self> {
        if !Path::new(REGISTRY_BIN).exists() {
            eprintln!("SKIP: {REGISTRY_BIN} is missing (apt-get install docker-registry)");
            return None;
        }
        let out = Command::new("htpasswd").args(["-Bbn", user, pass]).output();
        let entry = match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            _ => {
                eprintln!("SKIP: htpasswd is missing or failed (apt-get install apache2-utils)");
                return None;
            }
        };
        Self::start(
            Some((tls_files(), entry)),
            Some((user.to_owned(), pass.to_owned())),
        )
    }

    /// Starts an anonymous TLS registry whose certificate is self-signed the way Docker's
    /// documentation shows (`openssl req -newkey rsa:4096 -nodes -sha256 -x509 -addext
    /// "subjectAltName = IP:127.0.0.1"`, which marks it `CA:TRUE`); [`Registry::cert_dir`]
    /// holds that certificate as `ca.crt`. `None` (after `SKIP:`) without `openssl`.
    pub fn start_docker_docs_self_signed() -> Option<Self> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let key = tmp.path().join("domain.key");
        let crt = tmp.path().join("domain.crt");
        let out = Command::new("openssl")
            .args(["req", "-newkey", "rsa:4096", "-nodes", "-sha256", "-keyout"])
            .arg(&key)
            .args([
                "-addext",
                "subjectAltName = IP:127.0.0.1",
                "-x509",
                "-days",
                "365",
                "-subj",
                "/CN=127.0.0.1",
                "-out",
            ])
            .arg(&crt)
            .output();
        if !out.is_ok_and(|o| o.status.success()) {
            eprintln!("SKIP: openssl is missing or failed (apt-get install openssl)");
            return None;
        }
        let cert_pem = fs::read_to_string(&crt).expect("domain.crt");
        let files = TlsFiles {
            ca_pem: cert_pem.clone(),
            cert_pem,
            key_pem: fs::read_to_string(&key).expect("domain.key"),
            client: None,
        };
        Self::start(Some((files, String::new())), None)
    }

    /// Starts an anonymous TLS registry that requires a client certificate signed by its CA;
    /// [`Registry::cert_dir`] holds `ca.crt`, `client.cert` and `client.key`.
    pub fn start_client_cert() -> Option<Self> {
        Self::start(Some((tls_files_with(true), String::new())), None)
    }

    #[allow(clippy::needless_pass_by_value)]
    fn start(tls: Option<(TlsFiles, String)>, creds: Option<(String, String)>) -> Option<Self> {
        if !Path::new(REGISTRY_BIN).exists() {
            eprintln!("SKIP: {REGISTRY_BIN} is missing (apt-get install docker-registry)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("wharf-registry-")
            .tempdir()
            .expect("temp dir for the registry");
        // Readable by an unprivileged test user, who needs the CA certificate.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::create_dir(dir.path().join("data")).expect("data dir");
        let is_tls = tls.is_some();
        if let Some((files, htpasswd)) = &tls {
            let certs = dir.path().join("certs.d");
            fs::create_dir(&certs).expect("certs.d");
            fs::set_permissions(&certs, fs::Permissions::from_mode(0o755)).expect("chmod");
            fs::write(certs.join("ca.crt"), &files.ca_pem).expect("ca.crt");
            fs::write(dir.path().join("server.crt"), &files.cert_pem).expect("server.crt");
            fs::write(dir.path().join("server.key"), &files.key_pem).expect("server.key");
            fs::write(dir.path().join("htpasswd"), format!("{htpasswd}\n")).expect("htpasswd");
            fs::write(dir.path().join("ca.pem"), &files.ca_pem).expect("ca.pem");
            if let Some((cert, key)) = &files.client {
                fs::write(certs.join("client.cert"), cert).expect("client.cert");
                fs::write(certs.join("client.key"), key).expect("client.key");
                // The unprivileged test user reads the key too.
                fs::set_permissions(certs.join("client.key"), fs::Permissions::from_mode(0o644))
                    .expect("chmod");
            }
        }
        let auth = tls.as_ref().is_some_and(|(_, h)| !h.is_empty());
        let client_ca = tls.as_ref().is_some_and(|(f, _)| f.client.is_some());
        // A free port is found by binding port 0; another process may grab it before the
        // registry binds, so a registry that exits early is retried on a new port.
        for _ in 0..5 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let config = config_yaml(dir.path(), &addr, is_tls, auth, client_ca);
            fs::write(dir.path().join("config.yml"), config).expect("config.yml");
            let log = fs::File::create(dir.path().join("registry.log")).expect("registry.log");
            let child = Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(dir.path().join("config.yml"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log fd"))
                .stderr(log)
                .spawn()
                .expect("spawn docker-registry");
            let mut child = child;
            if wait_ready(&mut child, &addr) {
                return Some(Self {
                    child: Some(child),
                    dir,
                    addr,
                    tls: is_tls,
                    creds,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "docker-registry did not come up; log: {}",
            fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// `127.0.0.1:PORT`, the registry host as references name it.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The CA certificate (PEM) that signed the server certificate, for TLS registries.
    pub fn ca_cert(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("certs.d/ca.crt"))
    }

    /// A directory laid out like `certs.d/<host>/`: it holds only `ca.crt`.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("certs.d"))
    }

    /// The user and password the registry accepts, for registries with auth.
    pub fn creds(&self) -> Option<(&str, &str)> {
        self.creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// `user:pass`, as `--creds` takes it.
    pub fn creds_arg(&self) -> Option<String> {
        self.creds.as_ref().map(|(u, p)| format!("{u}:{p}"))
    }

    /// Where the registry keeps its blobs and repositories.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's log so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Stops the registry now (tests of an interrupted transfer); dropping does the same.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `GET /v2/` until the registry answers with any HTTP status line. A TLS server answers a
/// plain request with "400 Bad Request" from Go's TLS listener, which is enough to know it is
/// serving.
fn wait_ready(child: &mut Child, addr: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let req = format!("GET /v2/ HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut buf = [0u8; 16];
            if s.write_all(req.as_bytes()).is_ok()
                && s.read(&mut buf)
                    .is_ok_and(|n| buf[..n].starts_with(b"HTTP/"))
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

fn config_yaml(dir: &Path, addr: &str, tls: bool, auth: bool, client_ca: bool) -> String {
    let d = dir.display();
    let mut s = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: {d}/data\n\
         \x20 delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: {addr}\n  secret: wharf-test-{port}\n  headers:\n    X-Content-Type-Options: [nosniff]\n",
        port = addr.rsplit(':').next().unwrap_or("0"),
    );
    if tls {
        let _ = write!(
            s,
            "  tls:\n    certificate: {d}/server.crt\n    key: {d}/server.key\n"
        );
        if client_ca {
            let _ = write!(s, "    clientcas:\n      - {d}/ca.pem\n");
        }
    }
    if auth {
        let _ = write!(
            s,
            "auth:\n  htpasswd:\n    realm: wharf-test\n    path: {d}/htpasswd\n"
        );
    }
    s
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
fn tls_files() -> TlsFiles {
    tls_files_with(false)
}

/// [`tls_files`], with a client certificate signed by the same CA when `client`.
fn tls_files_with(client: bool) -> TlsFiles {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name
        .push(DnType::CommonName, "wharf test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA cert");
    let key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = server
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server cert");
    TlsFiles {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        client: client.then(|| {
            let key = KeyPair::generate().expect("client key");
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
            params
                .distinguished_name
                .push(DnType::CommonName, "wharf test client");
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            let cert = params
                .signed_by(&key, &ca_cert, &ca_key)
                .expect("client cert");
            (cert.pem(), key.serialize_pem())
        }),
    }
}
