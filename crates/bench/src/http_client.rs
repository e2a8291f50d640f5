//! The load generator: a small HTTP/1.1 keep-alive client written for this bench (requests are
//! pre-rendered bytes, responses are parsed with `httparse` and their bodies read by
//! Content-Length or chunked framing), and a driver that keeps N connections busy for a fixed
//! time and keeps every latency sample.
//!
//! A hand-written client keeps the client's share of the two cores small and equal for the
//! product and the raw lines, and needs no crate beyond what the workspace already locks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request, rendered to bytes once. A paged request is followed by its next pages (the
/// `next_cursor` of each answer) as part of the same operation.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    bytes: Arc<[u8]>,
    paged: Option<Arc<Paged>>,
}

#[derive(Debug)]
struct Paged {
    target: String,
    headers: Vec<String>,
}

/// The `next_cursor` of a page (the API puts it after the items).
fn next_cursor(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"next_cursor\":\"";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let len = body[at..].iter().position(|b| *b == b'"')?;
    Some(String::from_utf8_lossy(&body[at..at + len]).into_owned())
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Req {
    /// `headers` are full lines without the CRLF, e.g. `Authorization: Bearer …`.
    pub(crate) fn new(method: &str, target: &str, headers: &[String], body: Option<&str>) -> Req {
        let mut s = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for h in headers {
            s.push_str(h);
            s.push_str("\r\n");
        }
        if let Some(b) = body {
            s.push_str("Content-Type: application/json\r\n");
            s.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            s.push_str(b);
        } else {
            s.push_str("\r\n");
        }
        Req {
            bytes: Arc::from(s.into_bytes()),
            paged: None,
        }
    }

    pub(crate) fn get(target: &str, headers: &[String]) -> Req {
        Req::new("GET", target, headers, None)
    }

    /// A GET of a keyset-paged list (`target` has a query string): every page is read.
    pub(crate) fn get_all_pages(target: &str, headers: &[String]) -> Req {
        let mut r = Req::get(target, headers);
        r.paged = Some(Arc::new(Paged {
            target: target.to_owned(),
            headers: headers.to_vec(),
        }));
        r
    }

    fn next_page(&self, cursor: &str) -> Option<Req> {
        self.paged.as_ref().map(|p| {
            let mut r = Req::get(
                &format!("{}&cursor={}", p.target, encode(cursor)),
                &p.headers,
            );
            r.paged = self.paged.clone();
            r
        })
    }
}

/// A response as the client saw it.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One keep-alive connection.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
}

enum Framing {
    Length(usize),
    Chunked,
}

impl Conn {
    pub(crate) async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        })
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 32 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + 32 * 1024, 0);
        let n = self.stream.read(&mut self.buf[old..]).await?;
        self.buf.truncate(old + n);
        if n == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }

    /// Takes exactly `n` bytes from the stream, into `out` when given.
    async fn take(&mut self, n: usize, mut out: Option<&mut Vec<u8>>) -> anyhow::Result<()> {
        let mut left = n;
        while left > 0 {
            if self.pos == self.buf.len() {
                self.fill().await?;
            }
            let k = left.min(self.buf.len() - self.pos);
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            }
            self.pos += k;
            left -= k;
        }
        Ok(())
    }

    /// One CRLF-terminated line (chunk sizes and trailers).
    async fn line(&mut self) -> anyhow::Result<String> {
        loop {
            if let Some(i) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    /// Sends one request and reads its whole response. The body is kept only when `keep_body`
    /// (or the status is not 2xx, for the error message).
    pub(crate) async fn send(&mut self, req: &Req, keep_body: bool) -> anyhow::Result<Resp> {
        self.stream.write_all(&req.bytes).await?;
        let (status, headers, head_len, framing) = loop {
            let mut hs = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut hs);
            match r.parse(&self.buf[self.pos..])? {
                httparse::Status::Complete(len) => {
                    let status = r.code.context("response without a status")?;
                    let mut framing = None;
                    let mut headers = Vec::new();
                    for h in r.headers.iter() {
                        let v = std::str::from_utf8(h.value).unwrap_or("");
                        if h.name.eq_ignore_ascii_case("content-length") {
                            framing = Some(Framing::Length(v.trim().parse()?));
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                            && v.to_ascii_lowercase().contains("chunked")
                        {
                            framing = Some(Framing::Chunked);
                        }
                        if keep_body || h.name.eq_ignore_ascii_case("set-cookie") {
                            headers.push((h.name.to_owned(), v.to_owned()));
                        }
                    }
                    let framing = match framing {
                        Some(f) => f,
                        None if status == 204 || status == 304 => Framing::Length(0),
                        None => bail!("response {status} has neither a length nor chunks"),
                    };
                    break (status, headers, len, framing);
                }
                httparse::Status::Partial => self.fill().await?,
            }
        };
        self.pos += head_len;
        let keep = keep_body || !(200..300).contains(&status);
        let mut body = Vec::new();
        match framing {
            Framing::Length(n) => self.take(n, keep.then_some(&mut body)).await?,
            Framing::Chunked => loop {
                let line = self.line().await?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .with_context(|| format!("chunk size {line:?}"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.line().await?.is_empty() {}
                    break;
                }
                self.take(size, keep.then_some(&mut body)).await?;
                self.take(2, None).await?;
            },
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }
}

impl Conn {
    /// Sends `req` and, when it is paged, its next pages; calls `each` on every answer and
    /// returns how many requests that took. A non-2xx answer is an error.
    pub(crate) async fn exchange(
        &mut self,
        req: &Req,
        keep_body: bool,
        mut each: impl FnMut(&Resp) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        let mut n = 0;
        let mut next: Option<Req> = None;
        loop {
            let r = next.as_ref().unwrap_or(req);
            let resp = self.send(r, keep_body || r.paged.is_some()).await?;
            n += 1;
            if !(200..300).contains(&resp.status) {
                bail!(
                    "HTTP {}: {}",
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                );
            }
            each(&resp)?;
            next = match next_cursor(&resp.body) {
                Some(c) => r.next_page(&c),
                None => None,
            };
            if next.is_none() {
                return Ok(n);
            }
        }
    }
}

/// Builds the requests of one operation (one request, or a short sequence such as a worklist's
/// two pages) from the connection's own random stream.
/// The requests of one operation, from the connection's index and its random source.
pub(crate) type MakeOp = Arc<dyn Fn(usize, &mut ChaCha8Rng) -> Vec<Req> + Send + Sync>;

/// What the driver measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadStats {
    pub connections: usize,
    /// Operations completed inside the timed window.
    pub ops: u64,
    /// Operations including the warm-up.
    pub ops_including_warmup: u64,
    /// HTTP requests per operation.
    pub requests_per_op: usize,
    /// Operations per second over the timed window, all connections together.
    pub ops_per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
}

pub(crate) struct Load {
    pub addr: SocketAddr,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub seed: u64,
}

impl Load {
    /// Opens the connections, runs `op` on each of them back to back for warm-up plus the
    /// timed window, and merges the samples. Any non-2xx answer fails the run.
    pub(crate) async fn run(&self, op: MakeOp) -> anyhow::Result<LoadStats> {
        let mut conns = Vec::with_capacity(self.connections);
        for _ in 0..self.connections {
            conns.push(Conn::connect(self.addr).await?);
        }
        let start = Instant::now();
        let measure_from = start + self.warmup;
        let end = measure_from + self.duration;
        let mut tasks = Vec::with_capacity(conns.len());
        for (i, mut conn) in conns.into_iter().enumerate() {
            let op = op.clone();
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(i as u64 * 7919));
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::with_capacity(16 * 1024);
                let mut all_ops = 0u64;
                let mut per_op = 0;
                loop {
                    let reqs = op(i, &mut rng);
                    let t = Instant::now();
                    if t >= end {
                        break;
                    }
                    let mut n = 0;
                    for r in &reqs {
                        n += conn.exchange(r, false, |_| Ok(())).await?;
                    }
                    per_op = per_op.max(n);
                    all_ops += 1;
                    if t >= measure_from {
                        times.push(t.elapsed());
                    }
                }
                Ok::<_, anyhow::Error>((times, per_op, all_ops))
            }));
        }
        let mut all = Vec::new();
        let mut requests_per_op = 0;
        let mut ops_including_warmup = 0;
        for t in tasks {
            let (times, per_op, n) = t.await.context("load task panicked")??;
            ops_including_warmup += n;
            all.extend(times);
            requests_per_op = requests_per_op.max(per_op);
        }
        all.sort_unstable();
        let n = all.len();
        let total: Duration = all.iter().sum();
        Ok(LoadStats {
            connections: self.connections,
            ops: n as u64,
            ops_including_warmup,
            requests_per_op,
            ops_per_sec: n as f64 / self.duration.as_secs_f64(),
            p50: crate::measure::percentile(&all, 0.50),
            p99: crate::measure::percentile(&all, 0.99),
            mean: if n == 0 {
                Duration::ZERO
            } else {
                total / n as u32
            },
        })
    }
}

/// Runs one operation on a fresh connection, keeping the bodies (every page of a paged
/// request): the probe before a timed run (are the answers right, how many rows).
pub(crate) async fn probe(
    addr: SocketAddr,
    reqs: &[Req],
    mut each: impl FnMut(&Resp) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut conn = Conn::connect(addr).await?;
    for r in reqs {
        conn.exchange(r, true, &mut each).await?;
    }
    Ok(())
}

/// One request on a fresh connection, whatever its status (the sign-in).
pub(crate) async fn once(addr: SocketAddr, req: &Req) -> anyhow::Result<Resp> {
    Conn::connect(addr).await?.send(req, true).await
}
