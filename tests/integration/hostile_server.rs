//! A server that answers as a hostile or broken host or proxy would: bodies generated on the fly
//! and streamed (never held whole in the test's memory), `Content-Length` headers that lie, gzip
//! bombs. One request per connection; a body without `Content-Length` ends when the connection
//! closes, as HTTP/1.1 allows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How a body is made: `fill(offset, buf)` writes the bytes at `offset` into `buf`.
pub type Fill = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;

/// An answer.
#[derive(Clone)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// `Content-Length` to claim, if any (it may lie).
    pub content_length: Option<u64>,
    /// Other headers.
    pub headers: Vec<(String, String)>,
    /// How many bytes of body are sent.
    pub len: u64,
    /// What they are.
    pub fill: Fill,
}

impl Answer {
    /// A small body, sent as it is with its true length.
    pub fn bytes(status: u16, body: Vec<u8>) -> Answer {
        let len = body.len() as u64;
        let body = Arc::new(body);
        Answer {
            status,
            content_length: Some(len),
            headers: vec![("content-type".into(), "application/json".into())],
            len,
            fill: Arc::new(move |offset, buf| {
                let start = offset as usize;
                buf.copy_from_slice(&body[start..start + buf.len()]);
            }),
        }
    }
}

/// The running server.
pub struct Hostile {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    sent: Arc<AtomicU64>,
}

impl Hostile {
    /// Starts a server that answers each request path (query included) with `route`.
    pub async fn start(route: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Hostile {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(AtomicU64::new(0));
        let route = Arc::new(route);
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let route = route.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, &*route, &counter).await;
                });
            }
        });
        Hostile { base, sent }
    }

    /// Body bytes written so far (the client may have stopped reading long before).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    route: &(dyn Fn(&str) -> Answer + Send + Sync),
    sent: &AtomicU64,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let answer = route(&path);
    let mut out = format!("HTTP/1.1 {} X\r\nconnection: close\r\n", answer.status);
    if let Some(len) = answer.content_length {
        out.push_str(&format!("content-length: {len}\r\n"));
    }
    for (k, v) in &answer.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    socket.write_all(out.as_bytes()).await?;
    let mut offset = 0u64;
    let mut chunk = vec![0u8; 256 * 1024];
    while offset < answer.len {
        let n = (answer.len - offset).min(chunk.len() as u64) as usize;
        (answer.fill)(offset, &mut chunk[..n]);
        socket.write_all(&chunk[..n]).await?;
        offset += n as u64;
        sent.fetch_add(n as u64, Ordering::Relaxed);
    }
    socket.shutdown().await
}

/// The gzip header of a stream without a name or time.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A tar header for one regular file of `size` bytes at `path`.
pub fn tar_header(path: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// A gzip stream of `len` bytes made of deflate "stored" blocks (no compression, so it costs
/// nothing to make), holding a tar archive of one file `big/blob.bin` as large as fits: a
/// tarball as big as its owner likes. The stream never ends properly: a reader stops first.
pub fn stored_gzip_tarball(len: u64) -> Fill {
    const BLOCK: u64 = 65535;
    const FRAME: u64 = BLOCK + 5;
    let header = tar_header("repo-abc/big/blob.bin", len * 2);
    Arc::new(move |offset, buf| {
        for (i, b) in buf.iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = if at < 10 {
                GZIP_HEADER[at as usize]
            } else {
                let pos = (at - 10) % FRAME;
                let block = (at - 10) / FRAME;
                match pos {
                    0 => 0, // BFINAL 0, BTYPE 00: stored
                    1 => (BLOCK & 0xff) as u8,
                    2 => (BLOCK >> 8) as u8,
                    3 => !(BLOCK & 0xff) as u8,
                    4 => !(BLOCK >> 8) as u8,
                    _ => {
                        let data = block * BLOCK + (pos - 5);
                        header.get(data as usize).copied().unwrap_or(0)
                    }
                }
            };
        }
    })
}

/// A gzip bomb: a few MB that inflate to `segments` × 64 MiB of a tar archive whose one file
/// (`bomb/zeros.bin`) is larger still. Built from one deflate segment of 64 MiB of zeros,
/// repeated: every back-reference of a repeated segment lands on zeros.
pub fn gzip_bomb(segments: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let raw = |input: &[u8]| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(input.len() / 100 + 1024);
        c.compress_vec(input, &mut out, FlushCompress::Sync)
            .unwrap();
        out
    };
    let segment = raw(&zeros);
    let mut header = tar_header("repo-abc/bomb/zeros.bin", (segments as u64 + 1) << 26);
    header.resize(512, 0);
    let mut out = GZIP_HEADER.to_vec();
    // The tar header as a stored block, then the zeros.
    out.push(0);
    out.extend_from_slice(&(512u16).to_le_bytes());
    out.extend_from_slice(&(!512u16).to_le_bytes());
    out.extend_from_slice(&header);
    for _ in 0..segments {
        out.extend_from_slice(&segment);
    }
    out
}
