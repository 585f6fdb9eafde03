//! Tag listing, following the `Link: <...>; rel="next"` pagination of the distribution spec.

use reqwest::{Method, Url};

use crate::auth::Scope;
use crate::client::{Missing, RegistryClient, Req, check_repository};
use crate::error::{RegistryError, Result};

/// A page of the tag list is refused beyond this size.
const MAX_PAGE: usize = 16 * 1024 * 1024;

#[derive(serde::Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The target of a `rel="next"` link, if the header has one.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then_some(target)
    })
}

impl RegistryClient {
    /// Every tag of a repository, in the registry's order. `page_size` asks for pages of
    /// that many tags (`?n=`); all pages are fetched.
    pub async fn list_tags(
        &self,
        repository: &str,
        page_size: Option<usize>,
    ) -> Result<Vec<String>> {
        check_repository(repository)?;
        let mut url = self.url(repository, "tags/list").await?;
        if let Some(n) = page_size {
            url.query_pairs_mut().append_pair("n", &n.to_string());
        }
        let mut out = Vec::new();
        // Bounded, so a registry whose links loop cannot keep us forever.
        for _ in 0..100_000 {
            let resp = self
                .send(Req::new(Method::GET, url.clone(), Scope::pull(repository)))
                .await?;
            if !resp.status().is_success() {
                return Err(self
                    .fail(resp, "GET", repository, Missing::Repository)
                    .await);
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .map(str::to_owned);
            let mut resp = resp;
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|source| RegistryError::Http {
                method: "GET".to_owned(),
                url: url.to_string(),
                error: source,
            })? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_PAGE {
                    return Err(RegistryError::TooLarge {
                        what: "tag list page",
                        url: url.to_string(),
                        limit: MAX_PAGE as u64,
                    });
                }
            }
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| RegistryError::BadResponse {
                    url: url.to_string(),
                    what: format!("unreadable tag list: {e}"),
                })?;
            out.extend(page.tags.unwrap_or_default());
            let Some(next) = next else {
                return Ok(out);
            };
            url = url.join(&next).map_err(|_| RegistryError::BadHeader {
                url: url.to_string(),
                header: "Link",
                value: next.clone(),
            })?;
            if url.origin() != self.ping().await?.base.origin() {
                return Err(RegistryError::BadHeader {
                    url: url.to_string(),
                    header: "Link",
                    value: next,
                });
            }
        }
        Err(RegistryError::BadResponse {
            url: Url::to_string(&url),
            what: "the tag list does not end".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel=next"#),
            Some("https://x/next")
        );
        assert_eq!(next_link(r#"<https://x/prev>; rel="prev""#), None);
    }
}
