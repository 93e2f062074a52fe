//! The listening socket's guards: a cap on open connections, and a deadline on reads
//! that make no progress, so that clients that stall (or trickle a request byte by
//! byte) cannot hold every connection or worker for ever. The connection also gives
//! hyper's own bodiless refusals a body in the route's protocol (`refusals`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use super::refusals::{self, Protocol};

pub struct GuardedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    read_timeout: Duration,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, max_connections: usize, read_timeout: Duration) -> GuardedListener {
        GuardedListener { inner, slots: Arc::new(Semaphore::new(max_connections.max(1))), read_timeout }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    /// Waits for a free slot before accepting: past the cap, new connections wait in
    /// the kernel's backlog rather than being served.
    async fn accept(&mut self) -> (GuardedStream, SocketAddr) {
        let slot = self.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        let (stream, address) = axum::serve::Listener::accept(&mut self.inner).await;
        let stream = GuardedStream {
            stream,
            _slot: slot,
            read_timeout: self.read_timeout,
            stalled: None,
            protocol: Protocol::default(),
            replacing: None,
        };
        (stream, address)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection holding its slot until dropped. A read that waits longer than the
/// timeout for its next byte fails, and hyper closes the connection; this also closes
/// keep-alive connections left idle that long.
pub struct GuardedStream {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
    read_timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    /// The protocol of the last request line read.
    protocol: Protocol,
    /// A refusal being written with its body in place of hyper's bodiless one.
    replacing: Option<Replacement>,
}

struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    /// What hyper asked to write: reported written once the replacement is.
    asked: usize,
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.stalled = None;
                if let Some(protocol) = refusals::sniff(&buf.filled()[before..]) {
                    this.protocol = protocol;
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = this.read_timeout;
                let stalled = this.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stalled.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl GuardedStream {
    /// Writes `buf`, or, when it is hyper's bodiless refusal, the same with a body.
    fn write_or_replace(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            let Some(bytes) = refusals::with_body(buf, self.protocol, &crate::wire::request_id()) else {
                return Pin::new(&mut self.stream).poll_write(cx, buf);
            };
            self.replacing = Some(Replacement { bytes, written: 0, asked: buf.len() });
        }
        let replacement = self.replacing.as_mut().expect("set above");
        while replacement.written < replacement.bytes.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &replacement.bytes[replacement.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => replacement.written += n,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let asked = replacement.asked;
        self.replacing = None;
        Poll::Ready(Ok(asked))
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.write_or_replace(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let may_be_refusal = total <= refusals::REFUSAL_HEAD_MAX
            && bufs.iter().find(|b| !b.is_empty()).is_some_and(|b| b.starts_with(b"HTTP/1.1 "));
        if may_be_refusal || self.replacing.is_some() {
            let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            return self.write_or_replace(cx, &joined);
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
