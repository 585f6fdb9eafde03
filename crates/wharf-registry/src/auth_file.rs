//! Credentials: `--creds USER:PASS`, and the auth files of containers-auth.json(5) and Docker's
//! `config.json`.
//!
//! Lookup in one file follows containers/image: a `credHelpers` entry for the registry wins;
//! then `auths` keys from the most specific (`host/namespace/repo`) to the least (`host`); then
//! the file's `credsStore` helper. Files are read in [`ConfigPaths::auth_files`] order and the
//! first that knows the registry answers.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::error::{RegistryError, Result};
use crate::paths::{AuthFileLocation, ConfigPaths};

/// A user name and password (or, with user `<token>`, an identity token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Parses `--creds USER[:PASSWORD]`. The password may contain ':'.
    pub fn parse(arg: &str) -> Result<Self> {
        match arg.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok(Self::new(u, p)),
            _ => Err(RegistryError::BadCredentials {
                what: if arg.is_empty() {
                    "(empty)".to_owned()
                } else {
                    format!("{:?}", arg.split(':').next().unwrap_or_default())
                },
            }),
        }
    }

    fn from_auth(path: &Path, key: &str, auth: &str) -> Result<Self> {
        let bad = |what: &str| RegistryError::BadConfig {
            path: path.to_owned(),
            what: format!("auths.{key:?}.auth: {what}"),
        };
        let bytes = B64
            .decode(auth.trim())
            .map_err(|_| bad("not valid base64"))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| bad("expected base64 of USER:PASSWORD"))?;
        Ok(Self::new(u, p))
    }

    /// The base64 `auth` value of an auth file entry.
    pub fn to_auth(&self) -> String {
        B64.encode(format!("{}:{}", self.username, self.password))
    }
}

#[derive(Debug, Default, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// Normalises an auth file key: `https://index.docker.io/v1/` and `docker.io` are the same
/// registry, and Docker writes keys with a scheme and path.
pub fn normalize_key(key: &str) -> String {
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    let key = match stripped {
        // A key with a scheme is a URL; only its host part names the registry.
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None => key.trim_end_matches('/'),
    };
    match key {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        _ => key
            .strip_prefix("index.docker.io/")
            .map_or_else(|| key.to_owned(), |r| format!("docker.io/{r}")),
    }
}

/// Keys to try for `host` and `repository`, most specific first: `host/a/b`, `host/a`, `host`.
fn lookup_keys(host: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut scope = if repository.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{repository}")
    };
    loop {
        keys.push(scope.clone());
        match scope.rfind('/') {
            Some(i) => scope.truncate(i),
            None => break,
        }
    }
    keys
}

fn read_auth_file(loc: &AuthFileLocation) -> Result<Option<AuthFile>> {
    let text = match std::fs::read_to_string(&loc.path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(RegistryError::Io {
                path: loc.path.clone(),
                source,
            });
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(AuthFile::default()));
    }
    let json = |source| RegistryError::Json {
        path: loc.path.clone(),
        source,
    };
    if loc.legacy {
        let auths = serde_json::from_str(&text).map_err(json)?;
        return Ok(Some(AuthFile {
            auths,
            ..AuthFile::default()
        }));
    }
    serde_json::from_str(&text).map(Some).map_err(json)
}

fn creds_in_file(
    loc: &AuthFileLocation,
    host: &str,
    repository: &str,
) -> Result<Option<Credentials>> {
    let Some(file) = read_auth_file(loc)? else {
        return Ok(None);
    };
    let host = normalize_key(host);
    if let Some((_, helper)) = file
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize_key(k) == host)
    {
        return credential_helper_get(helper, &host);
    }
    let auths: Vec<(String, &AuthEntry)> = file
        .auths
        .iter()
        .map(|(k, v)| (normalize_key(k), v))
        .collect();
    for key in lookup_keys(&host, repository) {
        let Some((raw_key, entry)) = auths.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            return Credentials::from_auth(&loc.path, raw_key, auth).map(Some);
        }
        if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
            return Ok(Some(Credentials::new(u, p)));
        }
        if let Some(t) = &entry.identity_token {
            return Ok(Some(Credentials::new("<token>", t)));
        }
        // An empty entry is Docker's marker that credsStore holds the secret.
    }
    match &file.creds_store {
        Some(store) if !store.is_empty() => credential_helper_get(store, &host),
        _ => Ok(None),
    }
}

/// Finds credentials for `host` (and `repository`, for namespaced entries) in `authfile` alone
/// when given, else in the default auth files.
pub fn find_credentials(
    paths: &ConfigPaths,
    authfile: Option<&Path>,
    host: &str,
    repository: &str,
) -> Result<Option<Credentials>> {
    let files = match authfile {
        Some(p) => vec![AuthFileLocation::containers(p.to_owned())],
        None => paths.auth_files(),
    };
    for loc in &files {
        if let Some(c) = creds_in_file(loc, host, repository)? {
            tracing::debug!(file = %loc.path.display(), host, "credentials found");
            return Ok(Some(c));
        }
    }
    Ok(None)
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the registry on stdin. "Not found" answers are
/// `None`, as Docker treats them.
pub fn credential_helper_get(helper: &str, host: &str) -> Result<Option<Credentials>> {
    run_helper(
        Path::new(&format!("docker-credential-{helper}")),
        helper,
        host,
    )
}

fn run_helper(program: &Path, helper: &str, host: &str) -> Result<Option<Credentials>> {
    let err = |what: String| RegistryError::CredentialHelper {
        helper: helper.to_owned(),
        host: host.to_owned(),
        what,
    };
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(host.as_bytes())
            .map_err(|e| err(format!("writing its input: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| err(format!("waiting for it: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let msg = format!(
            "{}{}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        return Err(err(format!("exited with {}: {msg}", out.status)));
    }
    let answer: HelperAnswer =
        serde_json::from_str(&stdout).map_err(|e| err(format!("unreadable answer: {e}")))?;
    Ok(Some(Credentials::new(answer.username, answer.secret)))
}

/// Stores credentials for `key` (a host, or `host/namespace` for a scoped entry) in the auth
/// file at `path`, keeping every other field of the file. The file is written atomically with
/// mode 0600, its directory created with mode 0700.
pub fn login(path: &Path, key: &str, creds: &Credentials) -> Result<()> {
    let mut doc = read_json_object(path)?;
    let auths = doc
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    let Some(auths) = auths.as_object_mut() else {
        return Err(RegistryError::BadConfig {
            path: path.to_owned(),
            what: "\"auths\" is not an object".to_owned(),
        });
    };
    auths.insert(
        normalize_key(key),
        serde_json::json!({ "auth": creds.to_auth() }),
    );
    write_json_0600(path, &doc)
}

/// Removes the entry for `key` from the auth file at `path`. Returns whether there was one.
pub fn logout(path: &Path, key: &str) -> Result<bool> {
    let mut doc = read_json_object(path)?;
    let key = normalize_key(key);
    let removed = doc
        .get_mut("auths")
        .and_then(serde_json::Value::as_object_mut)
        .is_some_and(|auths| {
            let before = auths.len();
            auths.retain(|k, _| normalize_key(k) != key);
            auths.len() != before
        });
    if removed {
        write_json_0600(path, &doc)?;
    }
    Ok(removed)
}

fn read_json_object(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.trim().is_empty() => Ok(serde_json::Map::new()),
        Ok(t) => serde_json::from_str(&t).map_err(|source| RegistryError::Json {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::Map::new()),
        Err(source) => Err(RegistryError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_json_0600(path: &Path, doc: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    let io = |p: &Path| {
        let p: PathBuf = p.to_owned();
        move |source| RegistryError::Io { path: p, source }
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    let mut text = serde_json::to_vec_pretty(doc).map_err(|source| RegistryError::Json {
        path: path.to_owned(),
        source,
    })?;
    text.push(b'\n');
    // The directory may be shared (`--authfile /shared/auth.json`): a predictable temporary
    // name could be pre-created, or linked elsewhere, by another user, who would then receive
    // the credentials: the temporary file has a random name, O_EXCL, mode 0600.
    wharf_fs::Atomic::new(path)
        .mode(0o600)
        .write(&text)
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> ConfigPaths {
        ConfigPaths::isolated(dir)
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn auth(u: &str, p: &str) -> String {
        Credentials::new(u, p).to_auth()
    }

    #[test]
    fn creds_flag_keeps_colons_in_the_password() {
        let c = Credentials::parse("bob:pa:ss").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "pa:ss"));
        assert!(Credentials::parse("bob").is_err());
        assert!(Credentials::parse(":x").is_err());
        assert!(!format!("{c:?}").contains("pa:ss"));
    }

    #[test]
    fn most_specific_auths_key_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let file = p.config_home().unwrap().join("containers/auth.json");
        write(
            &file,
            &format!(
                r#"{{"auths":{{"reg.example:5000":{{"auth":"{}"}},
                   "reg.example:5000/team":{{"auth":"{}"}},
                   "reg.example:5000/team/app":{{"auth":"{}"}}}}}}"#,
                auth("host", "1"),
                auth("ns", "2"),
                auth("repo", "3")
            ),
        );
        let get = |repo: &str| {
            find_credentials(&p, None, "reg.example:5000", repo)
                .unwrap()
                .map(|c| c.username)
        };
        assert_eq!(get("team/app").as_deref(), Some("repo"));
        assert_eq!(get("team/other").as_deref(), Some("ns"));
        assert_eq!(get("teamx/app").as_deref(), Some("host"));
        assert_eq!(get("").as_deref(), Some("host"));
        assert_eq!(
            find_credentials(&p, None, "other.example", "team/app").unwrap(),
            None
        );
    }

    #[test]
    fn files_are_read_in_order_and_docker_keys_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = paths(dir.path());
        let run = dir.path().join("run");
        p.xdg_runtime_dir = Some(run.clone());
        let docker = p.home.clone().unwrap().join(".docker/config.json");
        write(
            &docker,
            &format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}},"only.docker":{{"username":"u","password":"p"}}}}}}"#,
                auth("hub", "x")
            ),
        );
        let c = find_credentials(&p, None, "docker.io", "library/alpine").unwrap();
        assert_eq!(c.unwrap().username, "hub");
        // The runtime auth.json comes before Docker's file.
        write(
            &run.join("containers/auth.json"),
            &format!(
                r#"{{"auths":{{"docker.io":{{"auth":"{}"}}}}}}"#,
                auth("podman", "y")
            ),
        );
        let c = find_credentials(&p, None, "docker.io", "library/alpine").unwrap();
        assert_eq!(c.unwrap().username, "podman");
        let c = find_credentials(&p, None, "only.docker", "a")
            .unwrap()
            .unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p"));
        // REGISTRY_AUTH_FILE replaces the containers files, not Docker's.
        let env_file = dir.path().join("env-auth.json");
        write(&env_file, r#"{"auths":{}}"#);
        p.registry_auth_file = Some(env_file);
        let c = find_credentials(&p, None, "docker.io", "library/alpine").unwrap();
        assert_eq!(c.unwrap().username, "hub");
        // --authfile is the only file consulted.
        let explicit = dir.path().join("explicit.json");
        write(&explicit, r#"{"auths":{}}"#);
        assert_eq!(
            find_credentials(&p, Some(&explicit), "docker.io", "x").unwrap(),
            None
        );
    }

    #[test]
    fn broken_entries_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.json");
        write(&f, r#"{"auths":{"r.example":{"auth":"!!notbase64"}}}"#);
        let e = find_credentials(&paths(dir.path()), Some(&f), "r.example", "x").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("a.json") && msg.contains("r.example"), "{msg}");
        write(&f, "{not json");
        let e = find_credentials(&paths(dir.path()), Some(&f), "r.example", "x").unwrap_err();
        assert!(matches!(e, RegistryError::Json { .. }), "{e}");
    }

    #[test]
    fn cred_helpers_and_creds_store_run_the_helper() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("docker-credential-fake");
        // Answers for one host, "not found" for others, like docker-credential-pass does.
        write(
            &script,
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r host\n\
             if [ \"$host\" = helped.example ]; then\n\
             printf '{\"ServerURL\":\"%s\",\"Username\":\"hu\",\"Secret\":\"hs\"}' \"$host\"\n\
             else echo 'credentials not found in native keychain'; exit 1; fi\n",
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = run_helper(&script, "fake", "helped.example")
            .unwrap()
            .unwrap();
        assert_eq!(c, Credentials::new("hu", "hs"));
        assert_eq!(run_helper(&script, "fake", "other.example").unwrap(), None);

        let f = dir.path().join("cfg.json");
        write(
            &f,
            r#"{"auths":{"store.example":{}},"credHelpers":{"helped.example":"wharf-missing-helper"}}"#,
        );
        let e = find_credentials(&paths(dir.path()), Some(&f), "helped.example", "x").unwrap_err();
        assert!(
            e.to_string()
                .contains("docker-credential-wharf-missing-helper"),
            "{e}"
        );
        // No credsStore: the empty marker entry yields nothing.
        assert_eq!(
            find_credentials(&paths(dir.path()), Some(&f), "store.example", "x").unwrap(),
            None
        );
    }

    #[test]
    fn login_writes_0600_and_keeps_other_fields_logout_removes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/auth.json");
        write(
            &f,
            r#"{"auths":{"keep.example":{"auth":"a2VlcDprZWVw"}},"credHelpers":{"x":"y"}}"#,
        );
        login(
            &f,
            "https://new.example:5000/",
            &Credentials::new("me", "pw"),
        )
        .unwrap();
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(doc["credHelpers"]["x"], "y");
        assert_eq!(doc["auths"]["new.example:5000"]["auth"], auth("me", "pw"));
        let c = find_credentials(&paths(dir.path()), Some(&f), "new.example:5000", "a/b")
            .unwrap()
            .unwrap();
        assert_eq!(c, Credentials::new("me", "pw"));
        assert!(logout(&f, "new.example:5000").unwrap());
        assert!(!logout(&f, "new.example:5000").unwrap());
        assert!(
            find_credentials(&paths(dir.path()), Some(&f), "new.example:5000", "a")
                .unwrap()
                .is_none()
        );
        assert!(
            find_credentials(&paths(dir.path()), Some(&f), "keep.example", "a")
                .unwrap()
                .is_some()
        );
        // A fresh file in a fresh directory.
        let g = dir.path().join("new/dir/auth.json");
        login(&g, "r.example", &Credentials::new("a", "b")).unwrap();
        let dmode = std::fs::metadata(g.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dmode, 0o700);
    }

    /// Finding 7 of the security audit: with `--authfile` in a shared directory, another user
    /// pre-created the temporary file (its name was `.auth.json.tmp<PID>`) and received the
    /// credentials. The attacker's file must stay untouched and the result must be ours, 0600.
    #[test]
    fn login_in_a_shared_directory_ignores_a_precreated_temp_file() {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let f = shared.join("auth.json");
        // Every name the old code could pick for this process, made by "another user": as
        // root the file is handed to nobody, as in the attack; otherwise it is ours, which
        // still shows whether the write went through it.
        let trap = shared.join(format!(".auth.json.tmp{}", std::process::id()));
        std::fs::write(&trap, b"").unwrap();
        std::fs::set_permissions(&trap, std::fs::Permissions::from_mode(0o666)).unwrap();
        let euid = std::fs::metadata("/proc/self").unwrap().uid();
        if euid == 0 {
            std::os::unix::fs::chown(&trap, Some(65534), Some(65534)).unwrap();
        }
        login(&f, "r.example", &Credentials::new("me", "s3cret")).unwrap();
        let trapped = std::fs::read(&trap).expect("the attacker's file is left where it was");
        assert!(
            trapped.is_empty(),
            "credentials went into the attacker's file"
        );
        let md = std::fs::metadata(&f).unwrap();
        assert_eq!(md.permissions().mode() & 0o777, 0o600);
        assert_eq!(md.uid(), euid);
        assert!(md.ino() != std::fs::metadata(&trap).unwrap().ino());
        // Nothing else is left behind in the shared directory.
        let names: Vec<_> = std::fs::read_dir(&shared)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
