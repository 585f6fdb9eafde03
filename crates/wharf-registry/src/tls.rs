//! TLS trust for one registry host: the system roots, plus the CAs (`*.crt`) and client
//! certificate pairs (`*.cert` + `*.key`) of its certificate directory, laid out like
//! containers-certs.d(5). `--cert-dir` replaces the lookup; otherwise the first existing of
//! [`ConfigPaths::cert_dirs`] is used.

use std::path::{Path, PathBuf};

use crate::error::{RegistryError, Result};
use crate::paths::ConfigPaths;

/// What a certificate directory holds.
#[derive(Debug, Default)]
pub struct CertDir {
    pub path: Option<PathBuf>,
    /// Extra trusted CAs, PEM.
    pub cas: Vec<reqwest::Certificate>,
    /// A client identity (certificate chain and key, PEM).
    pub identity: Option<reqwest::Identity>,
}

/// Picks the certificate directory for `host`: `explicit` when given, else the first existing
/// per-host directory.
pub fn cert_dir_for(paths: &ConfigPaths, explicit: Option<&Path>, host: &str) -> Result<CertDir> {
    let dir = match explicit {
        Some(d) => Some(d.to_owned()),
        None => paths.cert_dirs(host).into_iter().find(|d| d.is_dir()),
    };
    match dir {
        Some(d) => load(&d),
        None => Ok(CertDir::default()),
    }
}

/// Reads one certificate directory. A `.key` without its `.cert` (or the reverse) is an error,
/// as it is for containers/image.
pub fn load(dir: &Path) -> Result<CertDir> {
    let err = |what: String| RegistryError::CertDir {
        path: dir.to_owned(),
        what,
    };
    let rd = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read it: {e}")))?;
    let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let mut out = CertDir {
        path: Some(dir.to_owned()),
        ..CertDir::default()
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| err(format!("{}: {e}", p.display())));
    for p in &names {
        let Some(ext) = p.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        match ext {
            "crt" => {
                let pem = read(p)?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| err(format!("{}: not a PEM certificate: {e}", p.display())))?;
                if certs.is_empty() {
                    return Err(err(format!("{}: no PEM certificate in it", p.display())));
                }
                out.cas.extend(certs);
            }
            "cert" => {
                let key = p.with_extension("key");
                if !key.exists() {
                    return Err(err(format!(
                        "missing key {} for client certificate {}",
                        key.display(),
                        p.display()
                    )));
                }
                if out.identity.is_some() {
                    return Err(err("more than one client certificate pair".to_owned()));
                }
                let mut pem = read(p)?;
                pem.push(b'\n');
                pem.extend(read(&key)?);
                out.identity = Some(reqwest::Identity::from_pem(&pem).map_err(|e| {
                    err(format!(
                        "{}: unusable client certificate/key: {e}",
                        p.display()
                    ))
                })?);
            }
            "key" => {
                let cert = p.with_extension("cert");
                if !cert.exists() {
                    return Err(err(format!(
                        "missing client certificate {} for key {}",
                        cert.display(),
                        p.display()
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_key_is_an_error_and_bad_pem_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client.key"), "x").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("missing client certificate") && e.contains("client.cert"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("client.key")).unwrap();
        std::fs::write(dir.path().join("ca.crt"), "not pem").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("ca.crt"), "{e}");
        std::fs::remove_file(dir.path().join("ca.crt")).unwrap();
        let empty = load(dir.path()).unwrap();
        assert!(empty.cas.is_empty() && empty.identity.is_none());
    }

    #[test]
    fn first_existing_per_host_dir_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::isolated(dir.path());
        let sys = dir.path().join("etc/containers/certs.d/reg.example:5000");
        std::fs::create_dir_all(&sys).unwrap();
        let c = cert_dir_for(&paths, None, "reg.example:5000").unwrap();
        assert_eq!(c.path.as_deref(), Some(sys.as_path()));
        let user = paths
            .config_home()
            .unwrap()
            .join("containers/certs.d/reg.example:5000");
        std::fs::create_dir_all(&user).unwrap();
        let c = cert_dir_for(&paths, None, "reg.example:5000").unwrap();
        assert_eq!(c.path.as_deref(), Some(user.as_path()));
        assert!(
            cert_dir_for(&paths, None, "none.example")
                .unwrap()
                .path
                .is_none()
        );
    }
}
