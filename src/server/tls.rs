//! TLS: the rustls server configuration built once at startup from the
//! certificate, key and optional client CA, and [`Stream`], the plain or
//! TLS connection the connection code reads and writes.

use crate::config::{TlsAuthClients, TlsConfig};
use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::server::TlsStream;
use glommio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Longest a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "cannot read {what} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// Builds the rustls server configuration (ring provider, TLS 1.2 and 1.3);
/// errors name the file that cannot be read or used.
pub fn server_config(t: &TlsConfig) -> Result<Arc<ServerConfig>, String> {
    let (Some(cert_file), Some(key_file)) = (&t.cert_file, &t.key_file) else {
        return Err("tls-port needs tls-cert-file and tls-key-file".into());
    };
    let certs = read_certs(cert_file, "tls-cert-file")?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("cannot read tls-key-file {}: {e}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let builder = match (&t.ca_cert_file, t.auth_clients) {
        (Some(ca_file), TlsAuthClients::Yes | TlsAuthClients::Optional) => {
            let mut roots = RootCertStore::empty();
            for ca in read_certs(ca_file, "tls-ca-cert-file")? {
                roots.add(ca).map_err(|e| {
                    format!("cannot use tls-ca-cert-file {}: {e}", ca_file.display())
                })?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let verifier = match t.auth_clients {
                TlsAuthClients::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("cannot use tls-ca-cert-file {}: {e}", ca_file.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "tls-cert-file {} and tls-key-file {} cannot be used: {e}",
            cert_file.display(),
            key_file.display()
        )
    })?;
    Ok(Arc::new(config))
}

/// A client connection: plain TCP or TLS over TCP.
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS, after a completed handshake.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// The TCP socket underneath (addresses, timeouts, options).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether the connection is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Writes all of `buf` and flushes it (TLS keeps records buffered until
    /// flushed; for plain TCP the flush is free).
    pub async fn send(&mut self, buf: &[u8]) -> io::Result<()> {
        use futures_lite::AsyncWriteExt;
        self.write_all(buf).await?;
        self.flush().await
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}

/// Completes the TLS handshake of an accepted connection, within
/// [`HANDSHAKE_TIMEOUT`]; failures are logged with the peer address.
pub async fn accept(acceptor: &futures_rustls::TlsAcceptor, tcp: TcpStream) -> Option<Stream> {
    let peer = tcp
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
    match acceptor.accept(tcp).await {
        Ok(s) => Some(Stream::Tls(Box::new(s))),
        Err(e) => {
            log::info!("TLS handshake with {peer} failed: {e}");
            None
        }
    }
}
