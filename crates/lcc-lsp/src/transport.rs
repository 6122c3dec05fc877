//! The wire in front of tower-lsp-server: message framing checked before the server sees it.
//!
//! tower-lsp-server 0.23 answers an undecodable message (a bad `Content-Length`, a body that is
//! not JSON, JSON that is not a JSON-RPC message) with an error, and then stops reading: its
//! `FramedRead` ends the stream after a decode error, and the server shuts down. So every
//! message is framed and checked here first. A valid one is passed on, framed again; for a bad
//! one the client gets the JSON-RPC error (`-32700` parse error, `-32600` invalid request, with
//! the request's id when it has one) and the server never sees it. Bytes that are no message
//! at all are skipped up to the next `Content-Length` header, as tower-lsp-server does.

use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Headers longer than this are not headers.
const MAX_HEADER: usize = 8 * 1024;
/// A declared body longer than this is refused (it would otherwise be waited for, and held).
const MAX_BODY: usize = 256 * 1024 * 1024;
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// What the framer found at the start of its buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A complete message body.
    Message(Vec<u8>),
    /// Something that is not a well-framed message (already dropped from the buffer).
    Malformed(&'static str),
}

/// Splits a byte stream into LSP messages (`Content-Length: N\r\n\r\n` and N bytes of body).
#[derive(Default)]
pub(crate) struct Framer {
    buf: Vec<u8>,
    /// Skipping garbage: reported once, not once per chunk read.
    skipping: bool,
    /// The headers of the message being read are parsed: where its body starts, its length.
    body: Option<(usize, usize)>,
}

/// Where `needle` starts in `haystack`, ASCII case-insensitively.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next frame, or `None` when more bytes are needed.
    pub fn next(&mut self) -> Option<Frame> {
        const START: &[u8] = b"content-";
        if let Some((start, length)) = self.body {
            if self.buf.len() < start + length {
                return None;
            }
            let body = self.buf.get(start..start + length).unwrap_or_default().to_vec();
            self.buf.drain(..start + length);
            self.body = None;
            return Some(Frame::Message(body));
        }
        // Resynchronise on a header: anything before one is dropped.
        if !self.buf.get(..START.len()).is_some_and(|b| b.eq_ignore_ascii_case(START)) {
            let partial = self.buf.len() < START.len()
                && START.get(..self.buf.len()).is_some_and(|s| s.eq_ignore_ascii_case(&self.buf));
            if partial {
                return None;
            }
            // Keep a tail that may be the start of a header split across reads.
            let cut = find(&self.buf, START).unwrap_or(self.buf.len().saturating_sub(START.len() - 1));
            self.buf.drain(..cut);
            if cut > 0 && !self.skipping {
                self.skipping = true;
                return Some(Frame::Malformed("bytes outside a message"));
            }
            if !self.buf.get(..START.len()).is_some_and(|b| b.eq_ignore_ascii_case(START)) {
                return None;
            }
        }
        // Headers end with an empty line: `\r\n\r\n`, or `\n\n` from a lax client.
        let head = self.buf.get(..MAX_HEADER.min(self.buf.len())).unwrap_or_default();
        let end = match (find(head, b"\r\n\r\n"), find(head, b"\n\n")) {
            (Some(a), Some(b)) if b < a => Some((b, 2)),
            (Some(a), _) => Some((a, 4)),
            (None, b) => b.map(|b| (b, 2)),
        };
        let Some((end, blank)) = end else {
            if self.buf.len() >= MAX_HEADER {
                // Not a header after all: skip it (the next call drops up to another one).
                self.buf.drain(..1);
                return self.malformed("header too long");
            }
            return None;
        };
        let length = match parse_headers(self.buf.get(..end).unwrap_or_default()) {
            Ok(length) => length,
            Err(reason) => {
                self.buf.drain(..end + blank);
                return self.malformed(reason);
            }
        };
        self.skipping = false;
        self.body = Some((end + blank, length));
        self.next()
    }

    fn malformed(&mut self, reason: &'static str) -> Option<Frame> {
        // What follows a bad header (its body, probably) is skipped without another error.
        self.skipping = true;
        Some(Frame::Malformed(reason))
    }
}

/// The body length the headers declare.
fn parse_headers(headers: &[u8]) -> Result<usize, &'static str> {
    let headers = std::str::from_utf8(headers).map_err(|_| "headers are not UTF-8")?;
    let mut length = None;
    for line in headers.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        let (name, value) = line.split_once(':').ok_or("a header line without `:`")?;
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("content-length") {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err("Content-Length is not a number");
            }
            let n: usize = value.parse().map_err(|_| "Content-Length is too large")?;
            if n > MAX_BODY {
                return Err("Content-Length is too large");
            }
            length = Some(n);
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            let charset = value.split(';').skip(1).map(str::trim).find_map(|p| p.strip_prefix("charset="));
            if !matches!(
                charset.map(|c| c.trim_matches('"').to_ascii_lowercase()).as_deref(),
                None | Some("utf-8" | "utf8")
            ) {
                return Err("the charset is not UTF-8");
            }
        }
    }
    length.ok_or("no Content-Length header")
}

/// Whether tower-lsp-server can decode `body`; if not, the error response to send instead.
pub(crate) fn check_message(body: &[u8]) -> Result<(), serde_json::Value> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(error_response(serde_json::Value::Null, PARSE_ERROR));
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => return Err(error_response(serde_json::Value::Null, PARSE_ERROR)),
    };
    // What tower-lsp-server's `Message` accepts: a response, else a request or notification.
    if serde_json::from_str::<Response>(text).is_ok() || serde_json::from_str::<Request>(text).is_ok() {
        return Ok(());
    }
    let id = match value.get("id") {
        Some(id @ serde_json::Value::String(_)) => id.clone(),
        Some(id) if id.as_i64().is_some() => id.clone(),
        _ => serde_json::Value::Null,
    };
    Err(error_response(id, INVALID_REQUEST))
}

fn error_response(id: serde_json::Value, code: i64) -> serde_json::Value {
    let message = if code == PARSE_ERROR { "Parse error" } else { "Invalid request" };
    serde_json::json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id })
}

/// A parse error for bytes that are no well-framed message, saying what is wrong.
fn framing_error(reason: &str) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "error": { "code": PARSE_ERROR, "message": "Parse error", "data": reason },
        "id": serde_json::Value::Null,
    })
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serves the language server on `input`/`output` until the client exits or closes `input`.
/// Runs on a multi-threaded tokio runtime (an edit waits, off the async threads, for the
/// queries it cancels).
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (service, socket) = tower_lsp_server::LspService::new(crate::Backend::new);
    let (server_in, to_server) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    let output = Arc::new(Mutex::new(output));
    let writer = tokio::spawn(forward(from_server, Arc::clone(&output)));
    let reader = tokio::spawn(filter(input, to_server, output));
    tower_lsp_server::Server::new(server_in, server_out, socket).serve(service).await;
    // After `exit` the client may keep its end open: stop reading it.
    reader.abort();
    // The server's end is closed: everything it wrote is flushed, then the writer ends.
    let _ = writer.await;
}

/// Client to server: well-framed, decodable messages are passed on; the others answered.
async fn filter<I, W, O>(mut input: I, mut to_server: W, output: Arc<Mutex<O>>)
where
    I: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(chunk.get(..n).unwrap_or_default());
        while let Some(frame) = framer.next() {
            let reply = match frame {
                Frame::Message(body) => match check_message(&body) {
                    Ok(()) => {
                        if to_server.write_all(&framed(&body)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(reply) => reply,
                },
                Frame::Malformed(reason) => framing_error(reason),
            };
            let mut output = output.lock().await;
            if output.write_all(&framed(reply.to_string().as_bytes())).await.is_err()
                || output.flush().await.is_err()
            {
                return;
            }
        }
    }
    // End of input: the server sees it and stops.
    let _ = to_server.shutdown().await;
}

/// Server to client: whole messages, so that they never interleave with the filter's replies.
async fn forward<R, O>(mut from_server: R, output: Arc<Mutex<O>>)
where
    R: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match from_server.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(chunk.get(..n).unwrap_or_default());
        while let Some(frame) = framer.next() {
            if let Frame::Message(body) = frame {
                let mut output = output.lock().await;
                if output.write_all(&framed(&body)).await.is_err() || output.flush().await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = output.lock().await.flush().await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn frames(input: &[&[u8]]) -> Vec<Frame> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        for chunk in input {
            framer.push(chunk);
            while let Some(f) = framer.next() {
                out.push(f);
            }
        }
        out
    }

    #[test]
    fn frames_split_anywhere() {
        let stream = b"Content-Length: 2\r\n\r\n{}content-length: 3\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n[1]";
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(
                frames(&[a, b]),
                vec![Frame::Message(b"{}".to_vec()), Frame::Message(b"[1]".to_vec())],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn large_bodies_arrive_in_pieces() {
        let body = format!("{{\"x\":\"{}\"}}", "y".repeat(100_000));
        let stream = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        let chunks: Vec<&[u8]> = stream.as_bytes().chunks(1000).collect();
        assert_eq!(frames(&chunks), vec![Frame::Message(body.into_bytes())]);
    }

    #[test]
    fn bad_headers_are_reported_once_and_skipped() {
        let got = frames(&[b"Content-Length: abc\r\n\r\n{\"x\":1}Content-Length: 2\r\n\r\n{}"]);
        assert_eq!(
            got,
            vec![Frame::Malformed("Content-Length is not a number"), Frame::Message(b"{}".to_vec())]
        );
        let got = frames(&[b"garbage\r\n\r\nmore garbage", b"Content-Length: 2\r\n\r\n{}"]);
        assert_eq!(got, vec![Frame::Malformed("bytes outside a message"), Frame::Message(b"{}".to_vec())]);
        let got = frames(&[b"Content-Length: 99999999999999999999999\r\n\r\nContent-Length: 2\r\n\r\n{}"]);
        assert_eq!(
            got,
            vec![Frame::Malformed("Content-Length is too large"), Frame::Message(b"{}".to_vec())]
        );
        let got = frames(&[b"Content-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n{}"]);
        assert_eq!(got, vec![Frame::Malformed("the charset is not UTF-8")]);
        let got = frames(&[b"Content-Length: 2\n\n{}Content-Length: 2\r\n\r\n[]"]);
        assert_eq!(got, vec![Frame::Message(b"{}".to_vec()), Frame::Message(b"[]".to_vec())]);
    }

    #[test]
    fn undecodable_messages_get_errors_with_their_id() {
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
        let error = |body: &[u8]| check_message(body).unwrap_err();
        assert_eq!(error(b"hello")["error"]["code"], PARSE_ERROR);
        assert_eq!(error(b"\xff\xfe")["error"]["code"], PARSE_ERROR);
        assert_eq!(error(b"[]")["error"]["code"], INVALID_REQUEST);
        let e = error(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#);
        assert_eq!((e["error"]["code"].as_i64(), e["id"].as_i64()), (Some(INVALID_REQUEST), Some(7)));
        assert_eq!(error(br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#)["id"], serde_json::Value::Null);
    }
}
