//! Consistency check: every blob re-hashed, every reference from `index.json` down to configs
//! and layers followed, every unpacked layer directory compared with what was unpacked, and
//! every problem reported with the path it concerns.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::PathBuf;

use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingReader};

use crate::refs::{Refs, Role};
use crate::tree::{TreeCheck, TreeStatus};
use crate::{Store, StoreError, read_dir_names};

/// One problem found by [`Store::fsck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsckProblem {
    /// The content of a blob does not hash to its file name.
    CorruptBlob {
        path: PathBuf,
        expected: Digest,
        actual: Digest,
    },
    /// A blob could not be read, or its algorithm cannot be verified.
    UnreadableBlob { path: PathBuf, error: String },
    /// A file under `blobs/` whose name is not a digest.
    StrayFile { path: PathBuf },
    /// A reference to a blob that is not in the store.
    Dangling {
        referrer: String,
        digest: Digest,
        path: PathBuf,
    },
    /// A reference whose size differs from the stored blob's.
    SizeMismatch {
        referrer: String,
        digest: Digest,
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// `index.json`, a manifest or a config that does not parse, or that contradicts itself.
    BadDocument { path: PathBuf, error: String },
    /// An unpacked layer directory that differs from what was unpacked (see `tree`).
    ChangedLayer {
        path: PathBuf,
        chain: Digest,
        changes: Vec<String>,
    },
    /// An unpacked layer directory that could not be walked.
    UnreadableLayer { path: PathBuf, error: String },
}

impl fmt::Display for FsckProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CorruptBlob {
                path,
                expected,
                actual,
            } => write!(
                f,
                "{}: corrupt blob: content hashes to {actual}, not {expected}; remove the \
                 images that use it (kiln rmi) and pull or build them again",
                path.display()
            ),
            Self::UnreadableBlob { path, error } => {
                write!(f, "{}: unreadable blob: {error}", path.display())
            }
            Self::StrayFile { path } => {
                write!(
                    f,
                    "{}: file in blobs/ whose name is not a digest",
                    path.display()
                )
            }
            Self::Dangling {
                referrer,
                digest,
                path,
            } => write!(
                f,
                "{}: missing blob {digest}, referenced by {referrer}",
                path.display()
            ),
            Self::SizeMismatch {
                referrer,
                digest,
                path,
                expected,
                actual,
            } => write!(
                f,
                "{}: blob {digest} has {actual} bytes, {referrer} says {expected}",
                path.display()
            ),
            Self::BadDocument { path, error } => write!(f, "{}: {error}", path.display()),
            Self::ChangedLayer { path, changes, .. } => write!(
                f,
                "{}: unpacked layer changed since it was unpacked ({}); remove it with \
                 `kiln system check --repair` (it is unpacked again from its verified blob \
                 when next used)",
                path.display(),
                changes.join("; ")
            ),
            Self::UnreadableLayer { path, error } => {
                write!(
                    f,
                    "{}: cannot check unpacked layer: {error}",
                    path.display()
                )
            }
        }
    }
}

/// What [`Store::fsck`] checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsckReport {
    pub blobs_checked: usize,
    pub bytes_checked: u64,
    pub references_checked: usize,
    /// Unpacked layer directories compared with their records.
    pub layers_checked: usize,
    /// Unpacked layer directories without a record (unpacked by an older wharf): not checked.
    pub layers_unrecorded: usize,
    pub problems: Vec<FsckProblem>,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl Store {
    /// Re-hashes every blob and checks every reference. Problems are collected, not returned as
    /// errors; an error means the check itself could not run (e.g. `blobs/` unreadable).
    pub fn fsck(&self) -> Result<FsckReport, StoreError> {
        self.fsck_with(TreeCheck::Full)
    }

    /// [`Store::fsck`], comparing unpacked layer directories with their records as deep as
    /// `layers` says ([`TreeCheck::Fast`] trusts `lstat` data, [`TreeCheck::Full`] re-hashes
    /// every file).
    pub fn fsck_with(&self, layers: TreeCheck) -> Result<FsckReport, StoreError> {
        let mut report = FsckReport::default();
        self.check_blobs(&mut report)?;
        self.check_references(&mut report);
        self.check_layers(&mut report, layers)?;
        Ok(report)
    }

    fn check_layers(&self, report: &mut FsckReport, check: TreeCheck) -> Result<(), StoreError> {
        for hex in read_dir_names(&self.layers_dir())? {
            let path = self.layers_dir().join(&hex);
            let Ok(chain) = wharf_oci::digest::parse(&format!("sha256:{hex}")) else {
                continue; // not a layer directory of ours (gc judges those)
            };
            match self.check_layer_tree(&chain, check) {
                Ok(TreeStatus::Intact) => report.layers_checked += 1,
                Ok(TreeStatus::Unrecorded) => report.layers_unrecorded += 1,
                Ok(TreeStatus::Changed(changes)) => {
                    report.layers_checked += 1;
                    report.problems.push(FsckProblem::ChangedLayer {
                        path,
                        chain,
                        changes,
                    });
                }
                Err(e) => report.problems.push(FsckProblem::UnreadableLayer {
                    path,
                    error: error_chain(&e),
                }),
            }
        }
        Ok(())
    }

    fn check_blobs(&self, report: &mut FsckReport) -> Result<(), StoreError> {
        let blobs_dir = self.oci_dir().join("blobs");
        for alg in read_dir_names(&blobs_dir)? {
            let alg_dir = blobs_dir.join(&alg);
            if !alg_dir.is_dir() {
                report
                    .problems
                    .push(FsckProblem::StrayFile { path: alg_dir });
                continue;
            }
            for hex in read_dir_names(&alg_dir)? {
                let path = alg_dir.join(&hex);
                let Ok(expected) = wharf_oci::digest::parse(&format!("{alg}:{hex}")) else {
                    report.problems.push(FsckProblem::StrayFile { path });
                    continue;
                };
                match hash_file(&path, &expected) {
                    Ok((actual, size)) => {
                        report.blobs_checked += 1;
                        report.bytes_checked += size;
                        if actual != expected {
                            report.problems.push(FsckProblem::CorruptBlob {
                                path,
                                expected,
                                actual,
                            });
                        }
                    }
                    Err(error) => report
                        .problems
                        .push(FsckProblem::UnreadableBlob { path, error }),
                }
            }
        }
        Ok(())
    }

    fn check_references(&self, report: &mut FsckReport) {
        let index_path = self.index_path();
        let index = match self.read_index() {
            Ok(i) => i,
            Err(e) => {
                report.problems.push(FsckProblem::BadDocument {
                    path: index_path,
                    error: error_chain(&e),
                });
                return;
            }
        };
        let mut stack: Vec<(String, wharf_oci::Descriptor, usize)> = index
            .manifests
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let name = crate::index::ref_name(d).unwrap_or("unnamed");
                (format!("index.json entry {i} ({name})"), d.clone(), 0)
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        while let Some((referrer, d, depth)) = stack.pop() {
            if !self.check_reference(report, &referrer, &d) || !seen.insert(d.digest().clone()) {
                continue;
            }
            let path = self.blob_path(d.digest());
            let refs = match self
                .read_small(d.digest())
                .and_then(|b| Refs::parse(&b, &path.display()))
            {
                Ok(r) => r,
                // Already reported by `check_blobs` (each cause once).
                Err(StoreError::CorruptBlob { .. }) => continue,
                Err(e) => {
                    report.problems.push(FsckProblem::BadDocument {
                        path,
                        error: error_chain(&e),
                    });
                    continue;
                }
            };
            let mut layer_count = 0;
            let mut config = None;
            for (role, child) in refs.children() {
                let referrer = format!("{role} of manifest {}", d.digest());
                match role {
                    Role::Manifest(_) if depth < 8 => {
                        stack.push((referrer, child.clone(), depth + 1));
                    }
                    Role::Manifest(_) => {}
                    Role::Layer(_) => {
                        layer_count += 1;
                        self.check_reference(report, &referrer, child);
                    }
                    Role::Config => {
                        if self.check_reference(report, &referrer, child) {
                            config = Some(child.digest().clone());
                        }
                    }
                }
            }
            if let Some(config) = config {
                self.check_config(report, &config, layer_count);
            }
        }
    }

    /// Checks that a referenced blob exists with the right size; true when it does.
    fn check_reference(
        &self,
        report: &mut FsckReport,
        referrer: &str,
        d: &wharf_oci::Descriptor,
    ) -> bool {
        report.references_checked += 1;
        let path = self.blob_path(d.digest());
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == d.size() => true,
            Ok(m) => {
                report.problems.push(FsckProblem::SizeMismatch {
                    referrer: referrer.to_owned(),
                    digest: d.digest().clone(),
                    path,
                    expected: d.size(),
                    actual: m.len(),
                });
                false
            }
            Err(_) => {
                report.problems.push(FsckProblem::Dangling {
                    referrer: referrer.to_owned(),
                    digest: d.digest().clone(),
                    path,
                });
                false
            }
        }
    }

    fn check_config(&self, report: &mut FsckReport, config: &Digest, layers: usize) {
        let path = self.blob_path(config);
        match self.config_diff_ids(config) {
            Ok(diff_ids) if diff_ids.len() == layers => {}
            // Artifacts and empty configs (`{}`) carry no rootfs: nothing to compare.
            Ok(diff_ids) if diff_ids.is_empty() => {}
            Ok(diff_ids) => report.problems.push(FsckProblem::BadDocument {
                path,
                error: format!(
                    "config lists {} diff IDs but its manifest has {layers} layers",
                    diff_ids.len()
                ),
            }),
            Err(StoreError::CorruptBlob { .. }) => {} // reported by `check_blobs`
            Err(e) => report.problems.push(FsckProblem::BadDocument {
                path,
                error: error_chain(&e),
            }),
        }
    }
}

fn hash_file(path: &std::path::Path, expected: &Digest) -> Result<(Digest, u64), String> {
    let hasher = Hasher::for_digest(expected).map_err(|e| e.to_string())?;
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = HashingReader::new(io::BufReader::with_capacity(256 << 10, file), hasher);
    io::copy(&mut reader, &mut io::sink()).map_err(|e| e.to_string())?;
    let (digest, size, _) = reader.finish();
    Ok((digest, size))
}
