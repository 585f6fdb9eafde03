//! The SPDX 2.3 JSON document of a built image: its packages and the files this build's
//! COPY/ADD steps put in it.

use serde_json::{Value, json};

use super::packages::{self, Distro, Manager};
use super::tree::{Kind, Tree};

/// What the document describes and when it was made.
pub(crate) struct DocumentInfo<'a> {
    /// The image's name (first tag), else its manifest digest.
    pub name: &'a str,
    /// The image ID (config digest) hex: the namespace is unique per image.
    pub image_id_hex: &'a str,
    /// RFC 3339, seconds, UTC.
    pub created: &'a str,
}

/// An SPDX identifier part: letters, digits, `.` and `-` only.
fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

/// The SPDX document, and the warnings of reading the databases.
pub(crate) fn spdx(tree: &Tree, info: &DocumentInfo<'_>) -> (Value, Vec<String>) {
    let (pkgs, mut warnings) = packages::find(tree);
    warnings.extend(tree.warnings.iter().cloned());
    let distro = Distro::from_tree(tree);
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    for (i, p) in pkgs.iter().enumerate() {
        let kind = match p.manager {
            Manager::Deb => "deb",
            Manager::Apk => "apk",
        };
        let id = format!("SPDXRef-Package-{kind}-{}-{i}", id_part(&p.name));
        let mut pkg = json!({
            "name": p.name,
            "SPDXID": id,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("listed in {}", p.source),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl(&distro),
            }],
        });
        if !p.summary.is_empty() {
            pkg["summary"] = p.summary.clone().into();
        }
        if p.homepage.starts_with("http://") || p.homepage.starts_with("https://") {
            pkg["homepage"] = p.homepage.clone().into();
        }
        if !p.license.is_empty() {
            // apk's L: is usually an SPDX expression but not always: kept as a comment rather
            // than asserted.
            pkg["licenseComments"] = format!("declared by the package: {}", p.license).into();
        }
        packages.push(pkg);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": id,
        }));
    }
    let mut files = Vec::new();
    for (n, (path, entry)) in tree
        .entries
        .iter()
        .filter(|(_, e)| tree.hashed_layers.contains(&e.layer))
        .enumerate()
    {
        let Kind::File {
            sha256: Some(sha256),
            sha1: Some(sha1),
            ..
        } = &entry.kind
        else {
            continue;
        };
        let id = format!("SPDXRef-File-{n}");
        files.push(json!({
            "fileName": format!("/{path}"),
            "SPDXID": id,
            "checksums": [
                {"algorithm": "SHA1", "checksumValue": sha1},
                {"algorithm": "SHA256", "checksumValue": sha256},
            ],
            "licenseConcluded": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "comment": format!("added by layer {} (COPY/ADD)", entry.layer),
        }));
        relationships.push(json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": id,
        }));
    }
    let doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": info.name,
        // Unique per image (its ID) and the same for the same image, so a rebuild with a
        // fixed time gives the same document.
        "documentNamespace": format!(
            "https://spdx.org/spdxdocs/wharf-kiln-{}",
            info.image_id_hex
        ),
        "creationInfo": {
            "created": info.created,
            "creators": [format!("Tool: wharf-kiln-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "files": files,
        "relationships": relationships,
    });
    (doc, warnings)
}

/// The CycloneDX 1.5 JSON form of the same facts.
pub(crate) fn cyclonedx(tree: &Tree, info: &DocumentInfo<'_>) -> (Value, Vec<String>) {
    let (pkgs, mut warnings) = packages::find(tree);
    warnings.extend(tree.warnings.iter().cloned());
    let distro = Distro::from_tree(tree);
    let mut components: Vec<Value> = pkgs
        .iter()
        .map(|p| {
            let purl = p.purl(&distro);
            json!({
                "type": "library",
                "bom-ref": purl,
                "name": p.name,
                "version": p.version,
                "purl": purl,
            })
        })
        .collect();
    for (path, entry) in tree
        .entries
        .iter()
        .filter(|(_, e)| tree.hashed_layers.contains(&e.layer))
    {
        if let Kind::File {
            sha256: Some(sha256),
            sha1: Some(sha1),
            ..
        } = &entry.kind
        {
            components.push(json!({
                "type": "file",
                "bom-ref": format!("file:/{path}"),
                "name": format!("/{path}"),
                "hashes": [{"alg": "SHA-1", "content": sha1}, {"alg": "SHA-256", "content": sha256}],
            }));
        }
    }
    // A version-5 style UUID from the image ID, so the same image gives the same document.
    let h = info.image_id_hex;
    let serial = if h.len() >= 32 {
        format!(
            "urn:uuid:{}-{}-5{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    } else {
        "urn:uuid:00000000-0000-5000-8000-000000000000".to_owned()
    };
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": info.created,
            "tools": {"components": [{"type": "application", "name": "wharf-kiln", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {"type": "container", "name": info.name},
        },
        "components": components,
    });
    (doc, warnings)
}
