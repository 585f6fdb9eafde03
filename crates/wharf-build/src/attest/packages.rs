//! Packages from the image's package databases: dpkg's `status` (and the `status.d/` files of
//! distroless images) and apk's `installed`. rpm's database is not read: since rpm 4.16 it is
//! an SQLite file (a Berkeley DB before), and no maintained pure-Rust crate reads it; the SBOM
//! says so in a warning when an image has one.
//!
//! The databases come from the image, so they are hostile input: invalid UTF-8 is replaced,
//! fields are cut at [`FIELD_LIMIT`], at most [`PACKAGE_LIMIT`] packages are listed, and
//! what was left out is reported as a warning, never a failure.

use std::collections::BTreeMap;

use super::tree::{Kind, Tree};

/// The longest field value kept, in characters.
pub(crate) const FIELD_LIMIT: usize = 1024;
/// The most packages listed from one image.
pub(crate) const PACKAGE_LIMIT: usize = 100_000;

/// The package manager a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Manager {
    Deb,
    Apk,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Package {
    pub manager: Manager,
    pub name: String,
    pub version: String,
    pub arch: String,
    /// The database file it was listed in (absolute path in the image).
    pub source: String,
    pub summary: String,
    pub homepage: String,
    pub license: String,
    pub maintainer: String,
    /// dpkg's `Source:` / apk's `o:` (origin), when not the package's own name.
    pub origin: String,
}

/// The distribution from `/etc/os-release` (else `/usr/lib/os-release`): `ID` and
/// `VERSION_ID`, for package URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Distro {
    pub id: String,
    pub version_id: String,
}

impl Distro {
    pub(crate) fn from_tree(tree: &Tree) -> Self {
        let bytes = tree
            .contents
            .get("etc/os-release")
            .or_else(|| tree.contents.get("usr/lib/os-release"));
        let mut d = Distro::default();
        for line in String::from_utf8_lossy(bytes.map_or(&[][..], Vec::as_slice)).lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').trim_matches('\'');
            let v: String = v
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .take(64)
                .collect();
            match k.trim() {
                "ID" => d.id = v.to_ascii_lowercase(),
                "VERSION_ID" => d.version_id = v,
                _ => {}
            }
        }
        d
    }
}

/// Every package the databases of `tree` list, sorted, and warnings about what was not read.
pub(crate) fn find(tree: &Tree) -> (Vec<Package>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    let mut dbs: Vec<(&str, Manager)> = Vec::new();
    for (path, entry) in &tree.entries {
        let manager = if path == "var/lib/dpkg/status"
            || (super::tree::wanted(path) && path.starts_with("var/lib/dpkg/status.d/"))
        {
            if path.ends_with(".md5sums") {
                continue;
            }
            Manager::Deb
        } else if path == "lib/apk/db/installed" {
            Manager::Apk
        } else {
            if matches!(
                path.as_str(),
                "var/lib/rpm/rpmdb.sqlite"
                    | "var/lib/rpm/Packages"
                    | "usr/lib/sysimage/rpm/rpmdb.sqlite"
            ) {
                warnings.push(format!(
                    "/{path}: rpm databases are not read (no maintained pure-Rust reader of \
                     rpm's SQLite or Berkeley DB format); its packages are not listed"
                ));
            }
            continue;
        };
        match &entry.kind {
            Kind::File { .. } => dbs.push((path, manager)),
            Kind::Symlink(target) => warnings.push(format!(
                "/{path} is a symbolic link (to {}): package databases are read only as \
                 regular files of the image, so its packages are not listed",
                target.escape_debug()
            )),
            Kind::Other => warnings.push(format!(
                "/{path} is not a regular file: its packages are not listed"
            )),
        }
    }
    for (path, manager) in dbs {
        // Missing contents: too large, already warned.
        let Some(bytes) = tree.contents.get(path) else {
            continue;
        };
        let source = format!("/{path}");
        let mut notes = Notes::default();
        for para in paragraphs(bytes, &mut notes) {
            if out.len() >= PACKAGE_LIMIT {
                notes.over_limit = true;
                break;
            }
            let p = match manager {
                Manager::Deb => deb(&para, &source),
                Manager::Apk => apk(&para, &source),
            };
            match p {
                Some(p) => out.push(p),
                None => notes.skipped += 1,
            }
        }
        notes.report(&source, &mut warnings);
    }
    out.sort();
    out.dedup();
    (out, warnings)
}

#[derive(Default)]
struct Notes {
    invalid_utf8: bool,
    truncated: bool,
    garbage_lines: usize,
    skipped: usize,
    over_limit: bool,
}

impl Notes {
    fn report(&self, source: &str, warnings: &mut Vec<String>) {
        let mut said = Vec::new();
        if self.invalid_utf8 {
            said.push("invalid UTF-8 (replaced)".to_owned());
        }
        if self.truncated {
            said.push(format!("fields longer than {FIELD_LIMIT} characters (cut)"));
        }
        if self.garbage_lines > 0 {
            said.push(format!(
                "{} lines that are not fields (ignored)",
                self.garbage_lines
            ));
        }
        if self.skipped > 0 {
            said.push(format!(
                "{} entries without a name and version or not installed (left out)",
                self.skipped
            ));
        }
        if self.over_limit {
            said.push(format!(
                "more than {PACKAGE_LIMIT} packages (the rest left out)"
            ));
        }
        if !said.is_empty() {
            warnings.push(format!("{source} in the image has {}", said.join(", ")));
        }
    }
}

/// `Key: value` paragraphs separated by blank lines; continuation lines (starting with a space
/// or tab) are dropped, since only first lines are used.
fn paragraphs(bytes: &[u8], notes: &mut Notes) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur = BTreeMap::new();
    for raw in bytes.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(raw);
        if matches!(line, std::borrow::Cow::Owned(_)) {
            notes.invalid_utf8 = true;
        }
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            notes.garbage_lines += 1;
            continue;
        };
        let k = k.trim();
        if k.is_empty() || k.chars().count() > 64 || k.contains(char::is_whitespace) {
            notes.garbage_lines += 1;
            continue;
        }
        let v = v.trim();
        let v = if v.chars().count() > FIELD_LIMIT {
            notes.truncated = true;
            v.chars().take(FIELD_LIMIT).collect()
        } else {
            v.to_owned()
        };
        // The first value of a key wins, as dpkg reads a paragraph.
        cur.entry(k.to_owned()).or_insert(v);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn field(p: &BTreeMap<String, String>, k: &str) -> String {
    p.get(k).cloned().unwrap_or_default()
}

fn deb(p: &BTreeMap<String, String>, source: &str) -> Option<Package> {
    let name = field(p, "Package");
    let version = field(p, "Version");
    if name.is_empty() || version.is_empty() {
        return None;
    }
    // `Status: install ok installed`; status.d files of distroless images have none.
    if let Some(status) = p.get("Status")
        && status.split_whitespace().last() != Some("installed")
    {
        return None;
    }
    let origin = field(p, "Source")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned();
    Some(Package {
        manager: Manager::Deb,
        origin: if origin == name {
            String::new()
        } else {
            origin
        },
        name,
        version,
        arch: field(p, "Architecture"),
        source: source.to_owned(),
        summary: field(p, "Description"),
        homepage: field(p, "Homepage"),
        license: String::new(),
        maintainer: field(p, "Maintainer"),
    })
}

fn apk(p: &BTreeMap<String, String>, source: &str) -> Option<Package> {
    let name = field(p, "P");
    let version = field(p, "V");
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let origin = field(p, "o");
    Some(Package {
        manager: Manager::Apk,
        origin: if origin == name {
            String::new()
        } else {
            origin
        },
        name,
        version,
        arch: field(p, "A"),
        source: source.to_owned(),
        summary: field(p, "T"),
        homepage: field(p, "U"),
        license: field(p, "L"),
        maintainer: field(p, "m"),
    })
}

/// Percent-encodes a package URL component: letters, digits and `.-_~` stay, everything else
/// (`+` and `:` of Debian versions included) is encoded, as purl's reference implementations do.
pub(crate) fn purl_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl Package {
    /// `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12`,
    /// `pkg:apk/alpine/NAME@VERSION?arch=ARCH&distro=alpine-3.20`.
    pub(crate) fn purl(&self, distro: &Distro) -> String {
        let (kind, default_ns) = match self.manager {
            Manager::Deb => ("deb", "debian"),
            Manager::Apk => ("apk", "alpine"),
        };
        let ns = if distro.id.is_empty() {
            default_ns
        } else {
            distro.id.as_str()
        };
        let mut q = Vec::new();
        if !self.arch.is_empty() {
            q.push(format!("arch={}", purl_encode(&self.arch)));
        }
        if !distro.id.is_empty() && !distro.version_id.is_empty() {
            q.push(format!(
                "distro={}",
                purl_encode(&format!("{}-{}", distro.id, distro.version_id))
            ));
        }
        if !self.origin.is_empty() {
            let key = if self.manager == Manager::Deb {
                "upstream"
            } else {
                "origin"
            };
            q.push(format!("{key}={}", purl_encode(&self.origin)));
        }
        let mut s = format!(
            "pkg:{kind}/{}/{}@{}",
            purl_encode(ns),
            purl_encode(&self.name),
            purl_encode(&self.version)
        );
        if !q.is_empty() {
            s.push('?');
            s.push_str(&q.join("&"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &[u8])]) -> Tree {
        let mut t = Tree::default();
        for (p, b) in files {
            t.entries.insert(
                (*p).to_owned(),
                super::super::tree::Entry {
                    layer: 0,
                    kind: Kind::File {
                        sha256: None,
                        sha1: None,
                        size: b.len() as u64,
                    },
                },
            );
            t.contents.insert((*p).to_owned(), b.to_vec());
        }
        t
    }

    #[test]
    fn dpkg_and_apk_databases_give_packages_with_purls() {
        let t = tree(&[
            (
                "var/lib/dpkg/status",
                b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\n\
Architecture: amd64\nSource: glibc\nDescription: GNU C Library\n more text\n\n\
Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n",
            ),
            (
                "lib/apk/db/installed",
                b"C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\n",
            ),
            ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        ]);
        let (pkgs, warnings) = find(&t);
        assert_eq!(pkgs.len(), 2, "{pkgs:?}");
        let d = Distro::from_tree(&t);
        assert_eq!(
            pkgs[0].purl(&d),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
        assert_eq!(
            pkgs[1].purl(&d),
            "pkg:apk/debian/musl@1.2.5-r0?arch=x86_64&distro=debian-12"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn garbage_is_reported_not_fatal() {
        let mut big = b"Package: big\nVersion: 1\nDescription: ".to_vec();
        big.extend(std::iter::repeat_n(b'x', 10 * FIELD_LIMIT));
        big.extend(b"\n\n\xff\xfe garbage without colon\nPackage: \xffodd\nVersion: 2\n\n");
        let t = tree(&[("var/lib/dpkg/status", &big)]);
        let (pkgs, warnings) = find(&t);
        assert_eq!(pkgs.len(), 2);
        assert!(
            pkgs.iter()
                .all(|p| p.summary.chars().count() <= FIELD_LIMIT)
        );
        let w = warnings.join("\n");
        assert!(
            w.contains("invalid UTF-8") && w.contains("cut") && w.contains("not fields"),
            "{w}"
        );
    }
}
