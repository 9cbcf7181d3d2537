//! Replies the owning shard writes straight to another core's client.
//!
//! When a connection's turn holds one command, for a key of another shard,
//! and nothing else to answer, the owner sends the reply to the socket
//! itself once the write is durable (through its own duplicate of the
//! socket), instead of handing it back to the connection's core, which
//! would be woken only to send it. The connection's core settles the reply
//! before it runs anything else for the client: at its next read it checks
//! that the owner sent everything, or sends what the owner left (a full
//! socket buffer) or the error of a failed WAL write. The owner wakes the
//! connection's core only in those cases, or when it is already waiting.

use atomic_waker::AtomicWaker;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8};
use std::sync::{Arc, Mutex};
use std::task::Poll;

/// The owner has not answered yet.
const WAITING: u8 = 0;
/// The owner sent the whole reply.
const SENT: u8 = 1;
/// The owner left bytes for the connection's core to send.
const LEFT: u8 = 2;

/// What the owner could not or must not send itself.
pub struct Leftover {
    /// Bytes to send before anything else.
    pub bytes: Vec<u8>,
    /// Close the connection after them (a WAL write failed).
    pub close: bool,
}

/// One reply on its way from the owning shard to the client's socket.
pub struct DirectReply {
    socket: Arc<OwnedFd>,
    state: AtomicU8,
    left: Mutex<Option<Leftover>>,
    /// Set once the connection's core waits for the outcome.
    want_wake: AtomicBool,
    waker: AtomicWaker,
}

impl DirectReply {
    /// A reply to be written to `socket` (a duplicate of the client's).
    pub fn new(socket: Arc<OwnedFd>) -> Arc<DirectReply> {
        Arc::new(DirectReply {
            socket,
            state: AtomicU8::new(WAITING),
            left: Mutex::new(None),
            want_wake: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        })
    }

    /// On the owner, once the command's writes are durable: sends `bytes`
    /// without blocking, or leaves what did not fit (or, when the WAL
    /// write failed, `wal_error` and a close) to the connection's core.
    /// Adds the bytes sent to `sent_bytes`.
    pub fn deliver(&self, mut bytes: Vec<u8>, wal_error: Option<&[u8]>, sent_bytes: &AtomicU64) {
        let left = match wal_error {
            Some(error) => Leftover {
                bytes: error.to_vec(),
                close: true,
            },
            None => {
                let sent = send_nonblocking(&self.socket, &bytes);
                sent_bytes.fetch_add(sent as u64, Relaxed);
                if sent == bytes.len() {
                    self.state.store(SENT, SeqCst);
                    if self.want_wake.load(SeqCst) {
                        self.waker.wake();
                    }
                    return;
                }
                bytes.drain(..sent);
                Leftover {
                    bytes,
                    close: false,
                }
            }
        };
        *self.left.lock().unwrap() = Some(left);
        self.state.store(LEFT, SeqCst);
        self.waker.wake();
    }

    /// On the connection's core: ready once the owner left something to
    /// send (never for a reply it sent whole; it does not wake for those).
    pub async fn left_something(&self) {
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            match self.state.load(SeqCst) {
                LEFT => Poll::Ready(()),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// On the connection's core: waits for the owner's outcome and returns
    /// what it left to send, if anything.
    pub async fn settle(&self) -> Option<Leftover> {
        self.want_wake.store(true, SeqCst);
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            match self.state.load(SeqCst) {
                WAITING => Poll::Pending,
                SENT => Poll::Ready(None),
                _ => Poll::Ready(self.left.lock().unwrap().take()),
            }
        })
        .await
    }
}

/// Writes as much of `bytes` to `socket` as fits without blocking.
fn send_nonblocking(socket: &OwnedFd, bytes: &[u8]) -> usize {
    let mut sent = 0;
    while sent < bytes.len() {
        // SAFETY: the pointer and length describe the live slice `bytes[sent..]`.
        let n = unsafe {
            libc::send(
                socket.as_raw_fd(),
                bytes[sent..].as_ptr().cast(),
                bytes.len() - sent,
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        match n {
            n if n > 0 => sent += n as usize,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => break,
        }
    }
    sent
}
