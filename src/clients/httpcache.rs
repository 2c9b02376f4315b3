//! A directory of GitHub API answers kept between runs (`--cache-dir`; under Actions restored and
//! saved with `actions/cache`): the body of each `GET` with its `ETag`, `Last-Modified` and `Link`
//! headers, so that the next run asks conditionally (`If-None-Match`, `If-Modified-Since`) and a
//! `304 Not Modified`, which GitHub does not count against the rate limit, is answered from here.
//!
//! The cache never fails a run: an entry that cannot be read is a miss, one that cannot be
//! written is left out, each with a debug line.

use bytes::Bytes;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest body kept (a module tarball is usually far smaller).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct HttpCache {
    dir: PathBuf,
    max_age: Duration,
}

/// What is kept of an answer besides its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    link: Option<String>,
    /// When it was stored or last confirmed by a `304`, in seconds since the epoch.
    stored: u64,
    len: usize,
}

/// A kept answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its body.
    pub body: Bytes,
    /// Its age: since it was stored or last confirmed.
    pub age: Duration,
    meta: Meta,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Entry {
    /// The headers of the kept answer that Baton reads (`Link` for the next page).
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        let pairs = [
            (http::header::LINK, &self.meta.link),
            (http::header::ETAG, &self.meta.etag),
            (http::header::LAST_MODIFIED, &self.meta.last_modified),
        ];
        for (name, value) in pairs {
            if let Some(v) = value.as_deref().and_then(|v| v.parse().ok()) {
                h.insert(name, v);
            }
        }
        h
    }

    /// The headers that make a request conditional on this answer.
    pub fn conditional(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = self.meta.etag.as_deref().and_then(|v| v.parse().ok()) {
            h.insert(http::header::IF_NONE_MATCH, v);
        }
        if let Some(v) = self
            .meta
            .last_modified
            .as_deref()
            .and_then(|v| v.parse().ok())
        {
            h.insert(http::header::IF_MODIFIED_SINCE, v);
        }
        h
    }
}

impl HttpCache {
    /// The cache in `dir` (made if missing); answers younger than `max_age` are used without
    /// asking GitHub.
    pub fn open(dir: &Path, max_age: Duration) -> std::io::Result<HttpCache> {
        std::fs::create_dir_all(dir)?;
        Ok(HttpCache {
            dir: dir.to_path_buf(),
            max_age,
        })
    }

    /// How old an answer may be and still be used without a request.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    fn paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let digest = Sha256::digest(url.as_bytes());
        let key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        (
            self.dir.join(format!("{key}.json")),
            self.dir.join(format!("{key}.body")),
        )
    }

    /// The kept answer of `url`, if any (and whole).
    pub fn get(&self, url: &str) -> Option<Entry> {
        let (meta_path, body_path) = self.paths(url);
        let meta: Meta = serde_json::from_slice(&std::fs::read(&meta_path).ok()?).ok()?;
        let body = std::fs::read(&body_path).ok()?;
        if meta.url != url || meta.len != body.len() {
            log::debug!(
                "cache: {} does not match {url}; asking GitHub",
                meta_path.display()
            );
            return None;
        }
        Some(Entry {
            body: Bytes::from(body),
            age: Duration::from_secs(now().saturating_sub(meta.stored)),
            meta,
        })
    }

    /// Keeps the answer of `url`.
    pub fn put(&self, url: &str, headers: &HeaderMap, body: &[u8]) {
        if body.len() > MAX_BODY {
            return;
        }
        let meta = Meta {
            url: url.to_string(),
            etag: header(headers, "etag"),
            last_modified: header(headers, "last-modified"),
            link: header(headers, "link"),
            stored: now(),
            len: body.len(),
        };
        if let Err(e) = self.write(&meta, body) {
            log::debug!("cache: cannot keep the answer of {url}: {e}");
        }
    }

    /// The kept body of `url`, to be read as a stream (a download), if it is whole.
    pub fn open_body(&self, url: &str) -> Option<std::fs::File> {
        let (meta_path, body_path) = self.paths(url);
        let meta: Meta = serde_json::from_slice(&std::fs::read(&meta_path).ok()?).ok()?;
        let file = std::fs::File::open(&body_path).ok()?;
        let len = file.metadata().ok()?.len();
        (meta.url == url && meta.len as u64 == len).then_some(file)
    }

    /// A file in the cache to write a download into as it arrives.
    pub fn new_body(&self) -> Option<tempfile::NamedTempFile> {
        tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| log::debug!("cache: cannot write in {}: {e}", self.dir.display()))
            .ok()
    }

    /// Keeps a whole download written with [`HttpCache::new_body`].
    pub fn keep_body(&self, url: &str, headers: &HeaderMap, file: tempfile::NamedTempFile) {
        let len = file.as_file().metadata().map_or(0, |m| m.len()) as usize;
        if len > MAX_BODY {
            return;
        }
        let (_, body_path) = self.paths(url);
        let meta = Meta {
            url: url.to_string(),
            etag: header(headers, "etag"),
            last_modified: header(headers, "last-modified"),
            link: None,
            stored: now(),
            len,
        };
        let kept = file
            .persist(&body_path)
            .map_err(|e| e.error)
            .and_then(|_| self.write_meta(&meta));
        if let Err(e) = kept {
            log::debug!("cache: cannot keep the download of {url}: {e}");
        }
    }

    /// Marks the answer of `url` as confirmed now (GitHub answered `304`).
    pub fn confirm(&self, entry: &Entry) {
        let meta = Meta {
            stored: now(),
            ..entry.meta.clone()
        };
        if let Err(e) = self.write_meta(&meta) {
            log::debug!("cache: cannot refresh {}: {e}", meta.url);
        }
    }

    fn write(&self, meta: &Meta, body: &[u8]) -> std::io::Result<()> {
        let (_, body_path) = self.paths(&meta.url);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, body)?;
        tmp.persist(&body_path).map_err(|e| e.error)?;
        self.write_meta(meta)
    }

    fn write_meta(&self, meta: &Meta) -> std::io::Result<()> {
        let (meta_path, _) = self.paths(&meta.url);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, &serde_json::to_vec(meta)?)?;
        tmp.persist(&meta_path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_with_the_headers_that_make_the_next_request_conditional() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::open(&dir.path().join("c"), Duration::ZERO).unwrap();
        let url = "https://api.github.com/repos/acme/vpc/tags?per_page=100";
        assert!(cache.get(url).is_none());
        let mut h = HeaderMap::new();
        h.insert("etag", "W/\"abc\"".parse().unwrap());
        h.insert("link", "<https://x/?page=2>; rel=\"next\"".parse().unwrap());
        cache.put(url, &h, b"[]");
        let entry = cache.get(url).expect("kept");
        assert_eq!(&entry.body[..], b"[]");
        assert_eq!(entry.conditional()["if-none-match"], "W/\"abc\"");
        assert!(entry.conditional().get("if-modified-since").is_none());
        assert_eq!(entry.headers()["link"], "<https://x/?page=2>; rel=\"next\"");
        assert!(entry.age < Duration::from_secs(5));
        assert!(
            cache
                .get("https://api.github.com/repos/acme/eks/tags")
                .is_none()
        );
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::open(dir.path(), Duration::ZERO).unwrap();
        let url = "https://api.github.com/repos/acme/vpc";
        cache.put(url, &HeaderMap::new(), b"{\"a\":1}");
        let (_, body) = cache.paths(url);
        std::fs::write(&body, b"{").unwrap();
        assert!(
            cache.get(url).is_none(),
            "a body of another length is not used"
        );
    }
}
