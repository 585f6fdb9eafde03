//! Blobs: existence checks, cross-repository mounts, streamed downloads that resume with
//! `Range` and verify every byte against the digest, and streamed uploads (monolithic or
//! chunked) that never hold more than one read buffer of the source in memory.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use reqwest::{Method, Response, StatusCode, Url};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use wharf_oci::{Digest, Hasher};

use crate::auth::Scope;
use crate::client::{Missing, RegistryClient, Req, ReqBody, check_repository};
use crate::error::{RegistryError, Result};

/// Read buffer of uploads, and the unit handed to the HTTP body.
const READ_BUF: usize = 64 * 1024;

/// How to upload a blob.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// The digest the content must have. Without it the digest is computed while streaming.
    pub digest: Option<Digest>,
    /// The size when known; sent as `Content-Length` and checked.
    pub size: Option<u64>,
    /// Upload in `PATCH` chunks of this many bytes instead of one request.
    pub chunk_size: Option<u64>,
    /// The source already checks its bytes against `digest` and fails its last read when
    /// they differ (a [`BlobReader`] does). A monolithic upload of such a source is not
    /// hashed again here: a failed read aborts the request body, so the registry never
    /// commits it, and the registry verifies the digest on `PUT` as well. Hashing twice
    /// was a third of a registry-to-registry copy's CPU time.
    pub source_verified: bool,
}

/// An upload session a registry opened ([`RegistryClient::start_upload`]).
#[derive(Debug)]
pub struct Upload {
    repository: String,
    location: Url,
}

/// A blob that is now in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedBlob {
    pub digest: Digest,
    pub size: u64,
}

impl RegistryClient {
    /// `HEAD /v2/<name>/blobs/<digest>`: the blob's size when the repository has it.
    pub async fn blob_exists(&self, repository: &str, digest: &Digest) -> Result<Option<u64>> {
        check_repository(repository)?;
        let url = self.url(repository, &format!("blobs/{digest}")).await?;
        let resp = self
            .send(Req::new(Method::HEAD, url, Scope::pull(repository)))
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(Some(header_length(&resp).unwrap_or(0))),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self
                .fail(resp, "HEAD", repository, Missing::Blob(digest))
                .await),
        }
    }

    /// Mounts `digest` from repository `from` of the same registry into `repository`
    /// (`POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<from>`). Returns false when the
    /// registry did not mount it (it lacks the blob, or does not mount across repositories);
    /// the upload session it opened instead is cancelled.
    pub async fn mount_blob(&self, repository: &str, digest: &Digest, from: &str) -> Result<bool> {
        check_repository(repository)?;
        check_repository(from)?;
        let mut url = self.url(repository, "blobs/uploads/").await?;
        url.query_pairs_mut()
            .append_pair("mount", digest.as_ref())
            .append_pair("from", from);
        let mut scope = Scope::push(repository);
        scope.from = Some(from.to_owned());
        let resp = self
            .send(Req::new(Method::POST, url.clone(), scope.clone()).header("content-length", "0"))
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::ACCEPTED => {
                if let Ok(loc) = Self::resolve_location(&url, &resp) {
                    let _ = self.send(Req::new(Method::DELETE, loc, scope)).await;
                }
                Ok(false)
            }
            _ => Err(self
                .fail(resp, "POST", repository, Missing::Blob(digest))
                .await),
        }
    }

    /// Opens a blob for reading. `size`, when known (from a descriptor), is enforced; the
    /// reader resumes with `Range` after a dropped connection and fails with
    /// [`RegistryError::DigestMismatch`] naming `digest` when the content is wrong.
    pub async fn get_blob(
        &self,
        repository: &str,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<BlobReader> {
        check_repository(repository)?;
        let hasher =
            Hasher::for_digest(digest).map_err(|source| RegistryError::UnverifiableDigest {
                digest: digest.clone(),
                source,
            })?;
        let url = self.url(repository, &format!("blobs/{digest}")).await?;
        let mut reader = BlobReader {
            client: self.clone(),
            repository: repository.to_owned(),
            digest: digest.clone(),
            url,
            size,
            offset: 0,
            skip: 0,
            hasher: Some(hasher),
            response: None,
            watchdog: None,
            failures: 0,
            done: false,
        };
        reader.open().await?;
        Ok(reader)
    }

    /// Uploads a blob from a stream. The source is read in 64 KiB pieces that go straight to
    /// the request body; nothing else is buffered. A content whose digest differs from
    /// `opts.digest` is refused before it is committed (chunked, or when the digest is not
    /// given) or by the registry (monolithic), and reported as [`RegistryError::DigestMismatch`].
    ///
    /// A failed upload is not retried here: the source cannot be rewound. Callers re-open the
    /// source and call again.
    pub async fn push_blob<R: AsyncRead + Unpin + Send>(
        &self,
        repository: &str,
        source: &mut R,
        opts: &UploadOptions,
    ) -> Result<PushedBlob> {
        let upload = self.start_upload(repository).await?;
        self.push_blob_to(upload, source, opts).await
    }

    /// Opens an upload session in `repository` (the `POST` that begins every upload), for
    /// [`RegistryClient::push_blob_to`]: a copy opens it while the source's blob request is on its
    /// way, so the two round trips overlap. One that is not used is given back with
    /// [`RegistryClient::cancel_upload`].
    pub async fn start_upload(&self, repository: &str) -> Result<Upload> {
        check_repository(repository)?;
        let scope = Scope::push(repository);
        let start = self.url(repository, "blobs/uploads/").await?;
        let resp = self
            .send(Req::new(Method::POST, start.clone(), scope).header("content-length", "0"))
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self
                .fail(resp, "POST", repository, Missing::Repository)
                .await);
        }
        Ok(Upload {
            repository: repository.to_owned(),
            location: Self::resolve_location(&start, &resp)?,
        })
    }

    /// Ends an upload session that will not be used (best effort: registries also expire
    /// abandoned sessions).
    pub async fn cancel_upload(&self, upload: Upload) {
        let scope = Scope::push(&upload.repository);
        let _ = self
            .send(Req::new(Method::DELETE, upload.location, scope))
            .await;
    }

    /// [`RegistryClient::push_blob`] into a session opened by [`RegistryClient::start_upload`].
    pub async fn push_blob_to<R: AsyncRead + Unpin + Send>(
        &self,
        upload: Upload,
        source: &mut R,
        opts: &UploadOptions,
    ) -> Result<PushedBlob> {
        let repository = upload.repository.as_str();
        let scope = Scope::push(repository);
        let mut location = upload.location;
        let what = opts.digest.as_ref().map_or_else(
            || format!("blob upload to {repository}"),
            ToString::to_string,
        );
        let monolithic = opts.digest.is_some() && opts.chunk_size.is_none();
        let mut hasher =
            match &opts.digest {
                Some(_) if monolithic && opts.source_verified => None,
                Some(d) => Some(Hasher::for_digest(d).map_err(|source| {
                    RegistryError::UnverifiableDigest {
                        digest: d.clone(),
                        source,
                    }
                })?),
                None => Some(Hasher::sha256()),
            };
        let mut sent: u64 = 0;

        let upload = async {
            if let (Some(digest), None) = (&opts.digest, opts.chunk_size) {
                // Monolithic: the whole stream in the closing PUT.
                let mut url = location.clone();
                url.query_pairs_mut().append_pair("digest", digest.as_ref());
                let (resp, n) = self
                    .stream_request(
                        Method::PUT,
                        url,
                        &scope,
                        source,
                        opts.size,
                        None,
                        hasher.as_mut(),
                        &what,
                    )
                    .await?;
                sent = n;
                return Ok::<_, RegistryError>(Some(resp));
            }
            // Chunked (or streamed when the size is unknown): PATCH pieces, then PUT.
            loop {
                let limit = opts.chunk_size.unwrap_or(u64::MAX);
                let declared = opts.size.map(|s| s.saturating_sub(sent).min(limit));
                if declared == Some(0) && sent > 0 {
                    break;
                }
                let range = declared.filter(|&d| d > 0).map(|d| (sent, sent + d - 1));
                let (resp, n) = self
                    .stream_request(
                        Method::PATCH,
                        location.clone(),
                        &scope,
                        source,
                        declared,
                        Some((limit, range)),
                        hasher.as_mut(),
                        &what,
                    )
                    .await?;
                if resp.status() != StatusCode::ACCEPTED && resp.status() != StatusCode::NO_CONTENT
                {
                    return Err(self
                        .fail(resp, "PATCH", repository, Missing::Repository)
                        .await);
                }
                location = Self::resolve_location(&location, &resp)?;
                sent += n;
                if n < limit {
                    break;
                }
            }
            Ok(None)
        };
        let result = upload.await;
        // Unhashed only when monolithic with a digest (see `source_verified`).
        let computed = match (hasher, &opts.digest) {
            (Some(h), _) => h.finish(),
            (None, Some(d)) => d.clone(),
            (None, None) => Hasher::sha256().finish(),
        };
        let fail_cleanup = |loc: Url| {
            let client = self.clone();
            let scope = scope.clone();
            async move {
                let _ = client.send(Req::new(Method::DELETE, loc, scope)).await;
            }
        };
        let put_resp = match result {
            Ok(r) => r,
            Err(e) => {
                fail_cleanup(location.clone()).await;
                return Err(e);
            }
        };
        if let Some(expected) = &opts.digest
            && *expected != computed
        {
            if put_resp.is_none() {
                fail_cleanup(location.clone()).await;
            }
            return Err(RegistryError::DigestMismatch {
                what: format!("blob upload to {repository}"),
                expected: expected.clone(),
                actual: computed,
            });
        }
        if let Some(size) = opts.size
            && size != sent
        {
            fail_cleanup(location.clone()).await;
            return Err(RegistryError::SourceSize {
                what,
                expected: size,
                actual: sent,
            });
        }
        let resp = if let Some(r) = put_resp {
            r
        } else {
            let mut url = location.clone();
            url.query_pairs_mut()
                .append_pair("digest", computed.as_ref());
            self.send(Req::new(Method::PUT, url, scope.clone()).header("content-length", "0"))
                .await?
        };
        if resp.status() != StatusCode::CREATED {
            let err = self
                .fail(resp, "PUT", repository, Missing::Blob(&computed))
                .await;
            return Err(match err {
                RegistryError::Status { code, .. } if code.as_deref() == Some("DIGEST_INVALID") => {
                    RegistryError::DigestRefused {
                        repository: repository.to_owned(),
                        digest: computed,
                    }
                }
                other => other,
            });
        }
        Ok(PushedBlob {
            digest: computed,
            size: sent,
        })
    }

    /// Sends one request whose body is read from `source` (at most `limit` bytes when chunking),
    /// hashing it on the way. Returns the response and the byte count.
    #[allow(clippy::too_many_arguments)]
    async fn stream_request<R: AsyncRead + Unpin + Send>(
        &self,
        method: Method,
        url: Url,
        scope: &Scope,
        source: &mut R,
        length: Option<u64>,
        chunk: Option<(u64, Option<(u64, u64)>)>,
        mut hasher: Option<&mut Hasher>,
        what: &str,
    ) -> Result<(Response, u64)> {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
        let body =
            reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            }));
        let mut req = Req::new(method.clone(), url, scope.clone())
            .header("content-type", "application/octet-stream");
        if let Some(len) = length {
            req = req.header("content-length", &len.to_string());
        }
        if let Some((_, Some((from, to)))) = chunk {
            req = req.header("content-range", &format!("{from}-{to}"));
        }
        req.body = ReqBody::Stream(Some(body));
        let limit = chunk.map_or(u64::MAX, |(l, _)| l);
        let feed = async move {
            let mut count = 0u64;
            let mut buf = BytesMut::with_capacity(READ_BUF);
            while count < limit {
                let want = (limit - count).min(READ_BUF as u64) as usize;
                buf.clear();
                buf.reserve(want);
                let n = match (&mut *source).take(want as u64).read_buf(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        let msg = e.to_string();
                        let _ = tx.send(Err(std::io::Error::other(msg))).await;
                        return Err(RegistryError::Source {
                            what: what.to_owned(),
                            source: e,
                        });
                    }
                };
                if n == 0 {
                    break;
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[..n]);
                }
                count += n as u64;
                if tx.send(Ok(buf.split().freeze())).await.is_err() {
                    // The request ended early; its error is the one to report.
                    break;
                }
            }
            drop(tx);
            Ok(count)
        };
        let (resp, fed) = futures_util::join!(self.send(req), feed);
        let count = fed?;
        if let Some(len) = length
            && count != len
        {
            return Err(RegistryError::SourceSize {
                what: what.to_owned(),
                expected: len,
                actual: count,
            });
        }
        Ok((resp?, count))
    }
}

/// The `Content-Length` header itself: for `HEAD`, reqwest's `content_length()` is the size
/// of the (empty) body.
pub(crate) fn header_length(resp: &Response) -> Option<u64> {
    resp.headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A blob being downloaded: yields verified chunks with [`BlobReader::next_chunk`], or acts as
/// an [`AsyncRead`] through [`BlobReader::into_async_read`].
#[derive(Debug)]
pub struct BlobReader {
    client: RegistryClient,
    repository: String,
    digest: Digest,
    url: Url,
    size: Option<u64>,
    offset: u64,
    /// Bytes still to drop from a response that ignored `Range` and started over.
    skip: u64,
    hasher: Option<Hasher>,
    response: Option<Response>,
    /// The low-speed limit of the current response.
    watchdog: Option<crate::speed::Watchdog>,
    failures: u32,
    done: bool,
}

impl BlobReader {
    /// Stops checking the content against the digest (the size is still enforced): for a
    /// caller that hashes every byte itself before it keeps any (the store's blob writer),
    /// where a second sha256 of the download would buy nothing.
    #[must_use]
    pub fn hashed_by_caller(mut self) -> Self {
        self.hasher = None;
        self
    }

    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The blob size: the descriptor's, or the first response's `Content-Length`.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Bytes delivered so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many times the download was resumed after a failure.
    pub fn resumed(&self) -> u32 {
        self.failures
    }

    async fn open(&mut self) -> Result<()> {
        let mut req = Req::new(Method::GET, self.url.clone(), Scope::pull(&self.repository));
        if self.offset > 0 {
            req = req.header("range", &format!("bytes={}-", self.offset));
        }
        let resp = self.client.send(req).await?;
        match resp.status() {
            StatusCode::OK => {
                self.skip = self.offset;
                if self.size.is_none() {
                    self.size = resp.content_length();
                }
            }
            StatusCode::PARTIAL_CONTENT if self.offset > 0 => {
                let start = resp
                    .headers()
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(self.offset) {
                    return Err(RegistryError::BadResponse {
                        url: self.url.to_string(),
                        what: format!(
                            "resuming blob {} at byte {}: the registry answered another range",
                            self.digest, self.offset
                        ),
                    });
                }
            }
            _ => {
                let repo = self.repository.clone();
                let digest = self.digest.clone();
                return Err(self
                    .client
                    .fail(resp, "GET", &repo, Missing::Blob(&digest))
                    .await);
            }
        }
        if let (Some(size), Some(len)) = (self.size, resp.content_length())
            && resp.status() == StatusCode::OK
            && len != size
        {
            return Err(RegistryError::SizeMismatch {
                digest: self.digest.clone(),
                expected: size,
                actual: len,
            });
        }
        self.response = Some(resp);
        self.watchdog = self.client.watchdog();
        Ok(())
    }

    /// A failure in the middle of the body: resume with `Range` while retries remain.
    async fn resume(&mut self, err: RegistryError) -> Result<()> {
        let policy = self.client.retry_policy();
        self.response = None;
        if self.failures >= policy.times {
            return Err(err);
        }
        tracing::debug!(digest = %self.digest, offset = self.offset, error = %err, "resuming blob download");
        tokio::time::sleep(policy.wait(self.failures, None)).await;
        self.failures += 1;
        self.open().await
    }

    /// The next verified piece of the blob, or `None` at its end. The last call checks size and
    /// digest: a wrong blob never ends successfully.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.response.is_none() {
                self.open().await?;
            }
            let Some(resp) = self.response.as_mut() else {
                continue;
            };
            match crate::speed::next_chunk(resp, self.watchdog.as_mut()).await {
                Ok(Some(mut bytes)) => {
                    if self.skip > 0 {
                        let drop_n = (self.skip as usize).min(bytes.len());
                        let _ = bytes.split_to(drop_n);
                        self.skip -= drop_n as u64;
                        if bytes.is_empty() {
                            continue;
                        }
                    }
                    let new_offset = self.offset + bytes.len() as u64;
                    if let Some(size) = self.size
                        && new_offset > size
                    {
                        self.done = true;
                        return Err(RegistryError::SizeMismatch {
                            digest: self.digest.clone(),
                            expected: size,
                            actual: new_offset,
                        });
                    }
                    if let Some(h) = self.hasher.as_mut() {
                        h.update(&bytes);
                    }
                    self.offset = new_offset;
                    return Ok(Some(bytes));
                }
                Ok(None) => {
                    if self.size.is_some_and(|s| self.offset < s) {
                        let err = RegistryError::BadResponse {
                            url: self.url.to_string(),
                            what: format!("blob {} ended after {} bytes", self.digest, self.offset),
                        };
                        self.resume(err).await?;
                        continue;
                    }
                    self.done = true;
                    self.response = None;
                    let actual = self.hasher.take().map(Hasher::finish);
                    if let Some(actual) = actual
                        && actual != self.digest
                    {
                        return Err(RegistryError::DigestMismatch {
                            what: format!("blob {}", self.digest),
                            expected: self.digest.clone(),
                            actual,
                        });
                    }
                    return Ok(None);
                }
                Err(e) => {
                    let err = self.client.chunk_error(self.url.as_str(), e);
                    self.resume(err).await?;
                }
            }
        }
    }

    /// Copies the whole verified blob into `writer`; returns the byte count. On a digest
    /// mismatch the bytes already written must be discarded by the caller (write to a
    /// temporary file and rename only on success).
    pub async fn copy_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        while let Some(chunk) = self.next_chunk().await? {
            writer
                .write_all(&chunk)
                .await
                .map_err(|source| RegistryError::Source {
                    what: format!("writing blob {}", self.digest),
                    source,
                })?;
        }
        writer
            .flush()
            .await
            .map_err(|source| RegistryError::Source {
                what: format!("writing blob {}", self.digest),
                source,
            })?;
        Ok(self.offset)
    }

    /// The blob as an [`AsyncRead`]. Errors (including a digest mismatch) surface as
    /// `io::Error`s wrapping the [`RegistryError`].
    pub fn into_async_read(self) -> impl AsyncRead + Send + Unpin {
        let stream = futures_util::stream::unfold(self, |mut r| async move {
            match r.next_chunk().await {
                Ok(Some(b)) => Some((Ok(b), r)),
                Ok(None) => None,
                Err(e) => {
                    r.done = true;
                    Some((Err(std::io::Error::other(e)), r))
                }
            }
        });
        tokio_util::io::StreamReader::new(stream.boxed())
    }
}
