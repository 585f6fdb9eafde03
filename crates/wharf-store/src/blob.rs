//! Content-addressed blobs: written to `tmp/`, hashed while written, renamed into
//! `oci/blobs/<alg>/<hex>` only when digest and size match what was expected.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use wharf_oci::digest::{Hasher, HashingWriter};
use wharf_oci::{Descriptor, Digest, MediaType};

use crate::fsutil::{mkdir_p, sync_dir};
use crate::{Inner, Store, StoreError};

/// JSON documents (manifests, indexes, configs) larger than this are refused by
/// [`Store::read_json`]: the one cap every pull path also applies
/// ([`wharf_oci::limits::MAX_JSON_SIZE`]), so nothing a pull stored is unreadable later.
pub const JSON_LIMIT: u64 = wharf_oci::limits::MAX_JSON_SIZE;

/// A blob that is now in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub digest: Digest,
    pub size: u64,
}

impl StoredBlob {
    /// A descriptor of this blob with the given media type.
    pub fn descriptor(&self, media_type: &str) -> Descriptor {
        Descriptor::new(MediaType::from(media_type), self.size, self.digest.clone())
    }
}

/// Streams one blob into the store. Bytes go to a temporary file under `tmp/` while being
/// hashed; [`BlobWriter::commit`] moves the file into `blobs/` only if its digest (and size, when
/// given) match. Dropping the writer without committing removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    inner: Arc<Inner>,
    temp: PathBuf,
    out: Option<HashingWriter<BufWriter<EarlyWriteback>>>,
    expected: Option<(Digest, u64)>,
}

/// Bytes written between two requests to start writeback.
const WRITEBACK_STEP: u64 = 8 << 20;

/// A blob file that asks the kernel to start writing its pages to disk as it grows, so that
/// the `fsync` of the commit waits for the last few megabytes instead of the whole blob. That
/// `fsync` came last in every layer of a pull, after its unpack: for the largest layers it
/// was 0.1-0.4 s at the end of the pull. `POSIX_FADV_DONTNEED` on dirty pages starts their
/// writeback without waiting for it (and cannot drop them while they are dirty); it is only
/// advice, so its errors are ignored.
#[derive(Debug)]
struct EarlyWriteback {
    file: File,
    written: u64,
    started: u64,
}

impl EarlyWriteback {
    fn new(file: File) -> Self {
        Self {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl Write for EarlyWriteback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if let Some(len) = std::num::NonZeroU64::new(self.written - self.started)
            && len.get() >= WRITEBACK_STEP
        {
            let _ = rustix::fs::fadvise(
                &self.file,
                self.started,
                Some(len),
                rustix::fs::Advice::DontNeed,
            );
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    pub(crate) fn new(store: &Store, expected: Option<(&Digest, u64)>) -> Result<Self, StoreError> {
        let hasher = match expected {
            Some((d, _)) => Hasher::for_digest(d)?,
            None => Hasher::sha256(),
        };
        let temp = store.inner.lease.temp_path("blob");
        let file = File::create(&temp).map_err(StoreError::io("creating", &temp))?;
        Ok(Self {
            inner: Arc::clone(&store.inner),
            temp,
            out: Some(HashingWriter::new(
                BufWriter::with_capacity(256 << 10, EarlyWriteback::new(file)),
                hasher,
            )),
            expected: expected.map(|(d, s)| (d.clone(), s)),
        })
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.out.as_ref().map_or(0, HashingWriter::count)
    }

    /// Verifies and moves the blob into place. A digest or size mismatch removes the temporary
    /// file and returns [`StoreError::DigestMismatch`] / [`StoreError::SizeMismatch`].
    pub fn commit(mut self) -> Result<StoredBlob, StoreError> {
        let out = self.out.take().ok_or_else(|| StoreError::Io {
            op: "committing",
            path: self.temp.clone(),
            source: io::Error::other("blob writer already finished"),
        })?;
        let (digest, size, buffered) = out.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| StoreError::io("writing", &self.temp)(e.into_error()))?;
        if let Some((expected, expected_size)) = &self.expected {
            if *expected != digest {
                return Err(StoreError::DigestMismatch {
                    expected: expected.clone(),
                    actual: digest,
                });
            }
            if *expected_size != size {
                return Err(StoreError::SizeMismatch {
                    digest,
                    expected: *expected_size,
                    actual: size,
                });
            }
        }
        let file = file.file;
        file.sync_all()
            .map_err(StoreError::io("syncing", &self.temp))?;
        drop(file);
        let dest = self.inner.blob_path(&digest);
        let dir = dest.parent().unwrap_or(&self.inner.root).to_owned();
        mkdir_p(&dir)?;
        self.inner.lease.pin(digest.as_ref())?;
        fs::rename(&self.temp, &dest).map_err(StoreError::io("renaming into place", &dest))?;
        sync_dir(&dir)?;
        Ok(StoredBlob { digest, size })
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer already finished"))?;
        // Stop a stream that runs past the announced size early instead of storing it all.
        if let Some((digest, size)) = &self.expected
            && out.count() + buf.len() as u64 > *size
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {digest} is longer than the expected {size} bytes"),
            ));
        }
        out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a successful commit the temporary path no longer exists; otherwise discard it.
        let _ = fs::remove_file(&self.temp);
    }
}

impl Store {
    /// Where the blob with this digest lives (whether or not it exists).
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.inner.blob_path(d)
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    /// The size of a stored blob.
    pub fn blob_size(&self, d: &Digest) -> Result<u64, StoreError> {
        let path = self.blob_path(d);
        match fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::BlobNotFound {
                digest: d.clone(),
                path,
            }),
            Err(e) => Err(StoreError::io("inspecting", &path)(e)),
        }
    }

    pub fn open_blob(&self, d: &Digest) -> Result<File, StoreError> {
        let path = self.blob_path(d);
        File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                StoreError::BlobNotFound {
                    digest: d.clone(),
                    path,
                }
            } else {
                StoreError::io("opening", &path)(e)
            }
        })
    }

    /// Starts writing a blob. With `expected`, the content must hash to that digest and have
    /// that size; without, it is stored under its sha256.
    pub fn blob_writer(&self, expected: Option<(&Digest, u64)>) -> Result<BlobWriter, StoreError> {
        BlobWriter::new(self, expected)
    }

    /// Stores a small blob from memory (a manifest or config) and returns its descriptor.
    pub fn put_blob_bytes(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor, StoreError> {
        let digest = wharf_oci::digest::sha256(bytes);
        let size = bytes.len() as u64;
        if self.blob_size(&digest).ok() == Some(size) {
            // Already there: pin it so a concurrent gc keeps it until we reference it.
            self.inner.lease.pin(digest.as_ref())?;
        } else {
            let mut w = self.blob_writer(Some((&digest, size)))?;
            w.write_all(bytes)
                .map_err(StoreError::io("writing blob", &w.temp))?;
            w.commit()?;
        }
        Ok(Descriptor::new(MediaType::from(media_type), size, digest))
    }

    /// Keeps an existing blob from being collected by `gc` while this store handle lives, e.g.
    /// a layer a pull found already present and will reference from a manifest it commits later.
    pub fn pin_blob(&self, d: &Digest) -> Result<(), StoreError> {
        self.inner.lease.pin(d.as_ref())
    }

    /// Releases every pin this handle (and its clones) holds: blobs and layer trees it wrote
    /// become collectable by [`Store::gc`] unless an image references them. Pins otherwise last
    /// until the handle is dropped; a long-running process calls this once its writes are
    /// committed (`gc` in the same process does not override its own pins).
    pub fn release_pins(&self) -> Result<(), StoreError> {
        self.inner.lease.release_pins()
    }

    /// Reads a small JSON blob (manifest, index, config); refuses blobs over [`JSON_LIMIT`].
    pub fn read_json<T: DeserializeOwned>(&self, d: &Digest) -> Result<T, StoreError> {
        let bytes = self.read_small(d)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
            what: format!("blob {d}"),
            source,
        })
    }

    /// Reads a small blob whole, refusing blobs over [`JSON_LIMIT`] and blobs whose content no
    /// longer matches their digest ([`StoreError::CorruptBlob`]).
    pub fn read_small(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        let file = self.open_blob(d)?;
        let path = self.blob_path(d);
        let size = file
            .metadata()
            .map_err(StoreError::io("inspecting", &path))?
            .len();
        if size > JSON_LIMIT {
            return Err(StoreError::JsonTooLarge {
                digest: d.clone(),
                size,
                limit: JSON_LIMIT,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(JSON_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(StoreError::io("reading", &path))?;
        // Manifests and configs decide what runs (Cmd, Env, layers): a blob changed on disk
        // after it was verified must not be trusted. Hashing a few KiB is cheap.
        let mut hasher = Hasher::for_digest(d)?;
        hasher.update(&bytes);
        let actual = hasher.finish();
        if actual != *d {
            return Err(StoreError::CorruptBlob {
                digest: d.clone(),
                actual,
                path,
            });
        }
        Ok(bytes)
    }
}
