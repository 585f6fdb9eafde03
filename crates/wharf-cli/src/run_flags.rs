//! Flags that shape a container's sandbox and that `berth run` and `kiln build` (for RUN) share,
//! with podman's and buildah's syntax: `--security-opt`, `--ulimit`, `--device`, `--dns*`.
//! One parser each, so the two binaries accept and refuse the same values.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use wharf_sandbox::bundle::Dns;
use wharf_sandbox::spec::SeccompMode;
use wharf_sandbox::spec::seccomp;

/// What `--security-opt` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityOpts {
    pub seccomp: SeccompMode,
    /// `no-new-privileges`: set it even where the default would not.
    pub no_new_privileges: bool,
}

impl Default for SecurityOpts {
    fn default() -> Self {
        Self {
            seccomp: SeccompMode::Default,
            no_new_privileges: false,
        }
    }
}

/// Whether the host enforces SELinux (its file system is mounted).
fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Parses `--security-opt` values (podman's `seccomp=FILE|unconfined`, `no-new-privileges`,
/// and the `key:value` spellings). `label=disable` and `apparmor=unconfined` ask for what wharf
/// always does (no SELinux label, no AppArmor profile) and are accepted; any other `label=` or
/// `apparmor=` is refused with the reason, never ignored.
///
/// # Errors
/// An unknown option, an unreadable or invalid seccomp profile, or a label/AppArmor setting
/// wharf cannot apply.
pub fn security_opts(opts: &[String]) -> anyhow::Result<SecurityOpts> {
    let mut out = SecurityOpts::default();
    for o in opts {
        match o.split_once(['=', ':']) {
            Some(("seccomp", "unconfined")) => out.seccomp = SeccompMode::Unconfined,
            Some(("seccomp", file)) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading the seccomp profile {file}"))?;
                // Parse now, so that a bad profile fails before anything is created.
                seccomp::validate_profile(&text, file).map_err(|e| anyhow::anyhow!(e))?;
                out.seccomp = SeccompMode::Profile {
                    text,
                    origin: file.to_string(),
                };
            }
            None if o == "no-new-privileges" => out.no_new_privileges = true,
            Some(("no-new-privileges", "true")) => out.no_new_privileges = true,
            Some(("label", "disable") | ("apparmor", "unconfined")) => {}
            Some(("label", _)) => bail!(
                "--security-opt {o:?}: wharf does not apply SELinux labels{}; hint: leave it out \
                 or use label=disable",
                if selinux_enabled() {
                    ""
                } else {
                    " (and SELinux is not enabled on this host)"
                }
            ),
            Some(("apparmor", _)) => bail!(
                "--security-opt {o:?}: wharf does not load AppArmor profiles; hint: leave it out \
                 or use apparmor=unconfined"
            ),
            _ => bail!(
                "unsupported --security-opt {o:?} (supported: seccomp=FILE, seccomp=unconfined, \
                 no-new-privileges, label=disable, apparmor=unconfined)"
            ),
        }
    }
    Ok(out)
}

/// The resource names `--ulimit` takes (Docker's), with their rlimit.
const ULIMITS: &[(&str, wharf_sandbox::spec::PosixRlimitType)] = {
    use wharf_sandbox::spec::PosixRlimitType as T;
    &[
        ("core", T::RlimitCore),
        ("cpu", T::RlimitCpu),
        ("data", T::RlimitData),
        ("fsize", T::RlimitFsize),
        ("locks", T::RlimitLocks),
        ("memlock", T::RlimitMemlock),
        ("msgqueue", T::RlimitMsgqueue),
        ("nice", T::RlimitNice),
        ("nofile", T::RlimitNofile),
        ("nproc", T::RlimitNproc),
        ("rss", T::RlimitRss),
        ("rtprio", T::RlimitRtprio),
        ("rttime", T::RlimitRttime),
        ("sigpending", T::RlimitSigpending),
        ("stack", T::RlimitStack),
    ]
};

/// One `--ulimit TYPE=SOFT[:HARD]` (`-1`: unlimited; HARD defaults to SOFT).
pub type Ulimit = (wharf_sandbox::spec::PosixRlimitType, u64, u64);

/// Parses `--ulimit` values into the full rlimit list of a container: the defaults with these
/// replacing theirs. A limit above this process's own hard limit is refused here, with the
/// reason: raising it needs `CAP_SYS_RESOURCE`, which a rootless user never has.
///
/// # Errors
/// A malformed value, an unknown type, soft above hard, or a hard limit above this process's.
pub fn ulimits(values: &[String]) -> anyhow::Result<Option<Vec<Ulimit>>> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut out = wharf_sandbox::spec::default_rlimits();
    for v in values {
        let bad = |why: &str| anyhow::anyhow!("invalid --ulimit {v:?}: {why}");
        let (name, limits) = v
            .split_once('=')
            .ok_or_else(|| bad("expected TYPE=SOFT[:HARD], e.g. nofile=1024:2048"))?;
        let typ = ULIMITS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = ULIMITS.iter().map(|(n, _)| *n).collect();
                bad(&format!("unknown type (one of {})", names.join(", ")))
            })?;
        let number = |s: &str| -> anyhow::Result<u64> {
            if s == "-1" {
                return Ok(u64::MAX);
            }
            s.parse::<u64>()
                .map_err(|_| bad(&format!("{s:?} is not a number or -1")))
        };
        let (soft, hard) = match limits.split_once(':') {
            Some((s, h)) => (number(s)?, number(h)?),
            None => (number(limits)?, number(limits)?),
        };
        if soft > hard {
            return Err(bad("the soft limit is above the hard limit"));
        }
        let own = wharf_sandbox::spec::own_hard_rlimit(typ);
        if hard > own {
            return Err(bad(&format!(
                "the hard limit is above this process's own ({}); raising it needs \
                 CAP_SYS_RESOURCE, which this process lacks; hint: ask for at most {}",
                show_limit(own),
                show_limit(own)
            )));
        }
        out.retain(|(t, _, _)| *t != typ);
        out.push((typ, soft, hard));
    }
    Ok(Some(out))
}

fn show_limit(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".to_owned()
    } else {
        v.to_string()
    }
}

/// One `--device HOST[:CONTAINER[:PERMISSIONS]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub host: PathBuf,
    pub container: String,
    /// `r`, `w`, `m` (podman's cgroup permissions); only full access is possible here.
    pub permissions: String,
}

impl Device {
    /// Parses and checks one `--device` value: the host path must be a device node. In a user
    /// namespace a node cannot be created (`mknod`), so it is bind-mounted, as podman does
    /// rootless; `m` (mknod inside) therefore grants nothing more.
    ///
    /// # Errors
    /// A malformed value, a relative container path, or a host path that is not a device.
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let bad = |why: String| anyhow::anyhow!("invalid --device {spec:?}: {why}");
        let parts: Vec<&str> = spec.split(':').collect();
        let is_perms = |p: &str| !p.is_empty() && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
        let (host, container, permissions) = match parts.as_slice() {
            [h] => (*h, *h, "rwm"),
            [h, p] if is_perms(p) => (*h, *h, *p),
            [h, c] => (*h, *c, "rwm"),
            [h, c, p] => (*h, *c, *p),
            _ => return Err(bad("expected HOST[:CONTAINER[:PERMISSIONS]]".into())),
        };
        if !is_perms(permissions) {
            return Err(bad(format!(
                "permissions {permissions:?} are not a combination of r, w and m"
            )));
        }
        if !(permissions.contains('r') && permissions.contains('w')) {
            // A bind-mounted node can be opened for writing even on a read-only mount: only a
            // devices cgroup could narrow the access, and the sandbox has none.
            return Err(bad(format!(
                "permissions {permissions:?}: restricting a device to reading or writing \
                 needs a devices cgroup, which this sandbox does not use; hint: leave the \
                 permissions out (rwm)"
            )));
        }
        if !host.starts_with('/') || !container.starts_with('/') {
            return Err(bad("both paths must be absolute".into()));
        }
        let meta = std::fs::metadata(host).map_err(|e| bad(format!("{host}: {e}")))?;
        {
            use std::os::unix::fs::FileTypeExt as _;
            let t = meta.file_type();
            if !(t.is_char_device() || t.is_block_device()) {
                return Err(bad(format!(
                    "{host} is not a device node (a directory of devices is not supported)"
                )));
            }
        }
        Ok(Self {
            host: PathBuf::from(host),
            container: container.to_owned(),
            permissions: permissions.to_owned(),
        })
    }

    /// The bind mount that puts the node into a container.
    ///
    /// # Errors
    /// The mount cannot be described (never for a parsed device).
    pub fn mount(&self) -> anyhow::Result<wharf_oci::oci_spec::runtime::Mount> {
        let options = vec!["bind".to_owned(), "nosuid".to_owned(), "rw".to_owned()];
        Ok(wharf_oci::oci_spec::runtime::MountBuilder::default()
            .destination(&self.container)
            .typ("bind")
            .source(&self.host)
            .options(options)
            .build()?)
    }
}

/// Parses `--dns` (IP addresses, or `none`: no generated `/etc/resolv.conf`), `--dns-search`
/// (comma-separated too; `.` clears the list) and `--dns-option`.
///
/// # Errors
/// A server that is not an IP address, or `none` with other servers.
pub fn dns(servers: &[String], search: &[String], options: &[String]) -> anyhow::Result<Dns> {
    let none = servers.iter().any(|s| s == "none");
    if none && servers.len() > 1 {
        bail!("--dns none cannot be combined with other --dns servers");
    }
    let servers = servers
        .iter()
        .filter(|s| *s != "none")
        .map(|s| {
            s.parse()
                .with_context(|| format!("invalid --dns {s:?}: expected an IP address or none"))
        })
        .collect::<anyhow::Result<_>>()?;
    let search = search
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Dns {
        servers,
        search,
        options: options.to_vec(),
        none,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_options() {
        let s = security_opts(&["no-new-privileges".into(), "seccomp=unconfined".into()]).unwrap();
        assert!(s.no_new_privileges);
        assert_eq!(s.seccomp, SeccompMode::Unconfined);
        assert!(security_opts(&["label=disable".into(), "apparmor=unconfined".into()]).is_ok());
        for bad in [
            "label=type:svirt_t",
            "apparmor=myprofile",
            "mask=/x",
            "seccomp=/nope",
        ] {
            assert!(security_opts(&[bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn ulimit_values() {
        use wharf_sandbox::spec::PosixRlimitType as T;
        let l = ulimits(&["nofile=100:200".into(), "core=0".into()])
            .unwrap()
            .unwrap();
        assert!(l.contains(&(T::RlimitNofile, 100, 200)));
        assert!(l.contains(&(T::RlimitCore, 0, 0)));
        assert_eq!(l.iter().filter(|(t, ..)| *t == T::RlimitNofile).count(), 1);
        for bad in ["nofile", "colour=1", "nofile=2:1", "nofile=x", "nofile=-1"] {
            assert!(ulimits(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(ulimits(&[]).unwrap().is_none());
    }

    #[test]
    fn device_values() {
        let d = Device::parse("/dev/null:/dev/mynull:rw").unwrap();
        assert_eq!(d.container, "/dev/mynull");
        assert_eq!(d.permissions, "rw");
        assert!(Device::parse("/dev/null:/dev/mynull:r").is_err());
        assert_eq!(
            Device::parse("/dev/null:rw").unwrap().container,
            "/dev/null"
        );
        for bad in [
            "/etc/passwd",
            "dev/null",
            "/dev/null:/x:q",
            "/dev/null:a:b:c",
            "/nope",
        ] {
            assert!(Device::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolv_conf_lines() {
        let base = "nameserver 10.0.0.1\nsearch corp\noptions ndots:2\n";
        let d = dns(
            &["192.0.2.1".into()],
            &["a.test,b.test".into()],
            &["ndots:5".into()],
        )
        .unwrap();
        assert_eq!(
            d.apply(base),
            "nameserver 192.0.2.1\nsearch a.test b.test\noptions ndots:5\n"
        );
        let only_opts = dns(&[], &[], &["edns0".into()]).unwrap();
        assert_eq!(
            only_opts.apply(base),
            "nameserver 10.0.0.1\nsearch corp\noptions edns0\n"
        );
        let clear = dns(&[], &[".".into()], &[]).unwrap();
        assert_eq!(clear.apply(base), "nameserver 10.0.0.1\noptions ndots:2\n");
        assert!(dns(&["none".into()], &[], &[]).unwrap().none);
        assert!(dns(&["nope".into()], &[], &[]).is_err());
        assert!(dns(&["none".into(), "1.1.1.1".into()], &[], &[]).is_err());
    }
}
