//! Downloads (a module's tarball) streamed to a reader on a blocking thread, never held whole in
//! memory: the bytes pass through a small channel as they arrive, counted against
//! [`Limits::tarball`](super::github::Limits), and the reader (the gzip and tar unpacker) keeps
//! only what it needs. With a cache, the bytes are also written to a file in it and kept once the
//! download is whole; a kept download is read from that file.

use super::github::{
    Body, GitHub, GitHubError, TARBALL_FLAG, content_length, network_message, size,
};
use bytes::{Buf, Bytes};
use http::Method;
use http_body_util::BodyExt;
use std::io::{Read, Write};
use tokio::sync::mpsc::{Receiver, Sender, channel};

/// Chunks in flight between the network and the reader (each a frame of the body, a few KiB).
const CHANNEL: usize = 16;

/// What a download's reader sees: the body's chunks, or why the stream stopped.
struct ChannelReader {
    rx: Receiver<Result<Bytes, String>>,
    chunk: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while !self.chunk.has_remaining() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(why)) => return Err(std::io::Error::other(why)),
                // The sender is gone: the body ended.
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.remaining());
        self.chunk.copy_to_slice(&mut out[..n]);
        Ok(n)
    }
}

/// Why a stream stopped before its end, if it did.
enum Stopped {
    TooLarge,
    Network(String),
}

impl GitHub {
    /// GETs a download and hands its body, as it arrives, to `read` on a blocking thread; at
    /// most [`Limits::tarball`] bytes are read. A failure of the transfer (too large, cut off)
    /// wins over what `read` made of the bytes it got.
    pub async fn download<T: Send + 'static>(
        &self,
        route: &str,
        read: impl FnOnce(&mut dyn Read) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let url = self.full_url(route);
        if let Some(file) = self.cache.as_deref().and_then(|c| c.open_body(&url)) {
            log::debug!("GET {url}: from the cache");
            super::github::count_from_cache();
            let mut file = std::io::BufReader::new(file);
            return tokio::task::spawn_blocking(move || read(&mut file))
                .await
                .map_err(|e| format!("GET {url}: the reader stopped: {e}"))?;
        }
        let (_, headers, stream) = self
            .respond(&Method::GET, &url, None, None)
            .await
            .map_err(|e| e.to_string())?;
        let limit = self.limits.tarball;
        if let Some(declared) = content_length(&headers).filter(|n| *n > limit) {
            return Err(too_large(
                &url,
                limit,
                format!("Content-Length {}", size(declared)),
            ));
        }
        let (tx, rx) = channel(CHANNEL);
        let reader = tokio::task::spawn_blocking(move || {
            read(&mut ChannelReader {
                rx,
                chunk: Bytes::new(),
            })
        });
        let mut keep = self.cache.as_deref().and_then(|c| c.new_body());
        let stopped = pump(stream, tx, limit, &mut keep).await;
        let result = reader
            .await
            .map_err(|e| format!("GET {url}: the reader stopped: {e}"))?;
        match stopped {
            Some(Stopped::TooLarge) => Err(too_large(
                &url,
                limit,
                format!("more than {} read", size(limit)),
            )),
            Some(Stopped::Network(why)) => Err(format!("GET {url}: {why}")),
            None => {
                if let (Some(cache), Some(file)) = (self.cache.as_deref(), keep) {
                    cache.keep_body(&url, &headers, file);
                }
                result
            }
        }
    }
}

fn too_large(url: &str, limit: u64, found: String) -> String {
    GitHubError::TooLarge {
        method: Method::GET,
        url: url.to_string(),
        limit,
        found,
        flag: TARBALL_FLAG,
    }
    .to_string()
}

/// Moves the body's chunks to the reader (and to the cache file), counting them; stops at the
/// limit or when the transfer fails, telling the reader why. When the reader stops early, the
/// rest is still read into the cache file (so that it holds the whole download), if there is
/// one, else left unread.
async fn pump(
    mut stream: Body,
    tx: Sender<Result<Bytes, String>>,
    limit: u64,
    keep: &mut Option<tempfile::NamedTempFile>,
) -> Option<Stopped> {
    let mut read = 0u64;
    let mut tx = Some(tx);
    loop {
        let frame = match stream.frame().await {
            None => return None,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                let why = network_message(&e);
                if let Some(tx) = tx {
                    let _ = tx.send(Err(why.clone())).await;
                }
                return Some(Stopped::Network(why));
            }
        };
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        read += chunk.len() as u64;
        if read > limit {
            if let Some(tx) = tx {
                let _ = tx.send(Err(format!("larger than {}", size(limit)))).await;
            }
            *keep = None;
            return Some(Stopped::TooLarge);
        }
        if let Some(file) = keep.as_mut() {
            if file.write_all(&chunk).is_err() {
                *keep = None;
            }
        }
        if let Some(sender) = &tx {
            if sender.send(Ok(chunk)).await.is_err() {
                // The reader is done with the body.
                tx = None;
                if keep.is_none() {
                    return None;
                }
            }
        }
    }
}
