//! TLS on --tls-port: redis-cli --tls and the Python client talk to the
//! server while the plain port keeps working; client certificates are
//! enforced with tls-auth-clients; plain-text clients on the TLS port and
//! unreadable certificates fail cleanly. Certificates are made at test time
//! with the openssl command.

mod common;

use common::{binary, free_port, Server};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A CA, a server certificate for 127.0.0.1/localhost and a client
/// certificate, all signed by the CA, in a temporary directory.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// `None` (with a message) when the openssl command is missing.
    fn make() -> Option<Certs> {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("skipped: the openssl command is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        let openssl = |args: &str| {
            let out = Command::new("openssl")
                .args(args.split(' '))
                .current_dir(d)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args}: {out:?}");
        };
        openssl("req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 2 -subj /CN=DiskDB-test-CA");
        for name in ["server", "client"] {
            openssl(&format!("req -new -nodes -newkey rsa:2048 -keyout {name}.key -out {name}.csr -subj /CN={name}"));
            openssl(&format!("x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out {name}.crt -days 2 -extfile {name}.ext"));
        }
        Some(Certs { dir })
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Server flags: TLS on `port` with the server certificate.
    fn flags(&self, port: u16) -> Vec<String> {
        vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            self.path("server.crt"),
            "--tls-key-file".into(),
            self.path("server.key"),
        ]
    }
}

fn start(certs: &Certs, tls_port: u16, extra: &[&str]) -> Server {
    let mut flags = certs.flags(tls_port);
    flags.extend(extra.iter().map(|s| s.to_string()));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Server::start(2, &flags)
}

/// Runs redis-cli; `None` (with a message) when it is missing or built
/// without TLS.
fn redis_cli(args: &[&str]) -> Option<Output> {
    let out = Command::new("redis-cli").args(args).output().ok();
    match out {
        None => eprintln!("skipped redis-cli checks: redis-cli is not installed"),
        Some(ref o) if String::from_utf8_lossy(&o.stderr).contains("not supported") => {
            eprintln!(
                "skipped redis-cli checks: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        _ => {}
    }
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Runs `args` through the Python client over TLS with the CA (and the
/// client certificate when `client_cert`); returns its stdout, or `None`
/// when python3 is missing.
fn python(certs: &Certs, port: u16, client_cert: bool) -> Option<Output> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/python/src");
    let script = r#"
import ssl, sys
from diskdb import DiskDB
ctx = ssl.create_default_context(cafile=sys.argv[2])
if len(sys.argv) > 3:
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
with DiskDB("127.0.0.1", int(sys.argv[1]), ssl_context=ctx, socket_timeout=10) as db:
    db.set("py-key", "over tls")
    print(db.get("py-key"))
"#;
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", src)
        .args(["-c", script, &port.to_string(), &certs.path("ca.crt")]);
    if client_cert {
        cmd.args([certs.path("client.crt"), certs.path("client.key")]);
    }
    match cmd.output() {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("skipped Python client check: {e}");
            None
        }
    }
}

#[test]
fn tls_and_plain_ports_serve_at_once() {
    let Some(certs) = Certs::make() else { return };
    let tls_port = free_port();
    let server = start(&certs, tls_port, &[]);
    let port = tls_port.to_string();
    let ca = certs.path("ca.crt");
    let tls = ["--tls", "--cacert", &ca, "-p", &port];
    if let Some(o) = redis_cli(&[&tls[..], &["PING"]].concat()) {
        assert_eq!(stdout(&o), "PONG", "{o:?}");
        let o = redis_cli(&[&tls[..], &["SET", "k", "v1"]].concat()).unwrap();
        assert_eq!(stdout(&o), "OK", "{o:?}");
        let o = redis_cli(&[&tls[..], &["GET", "k"]].concat()).unwrap();
        assert_eq!(stdout(&o), "v1", "{o:?}");
        let o = redis_cli(&[&tls[..], &["CONFIG", "GET", "tls-port"]].concat()).unwrap();
        assert_eq!(stdout(&o), format!("tls-port\n{tls_port}"), "{o:?}");
    }
    // the plain port at the same time, and the data is the same
    let mut c = server.conn();
    let _: () = common::query(&mut c, &["SET", "plain", "yes"]);
    if redis_cli(&["--version"]).is_some() {
        assert_eq!(common::bulk(&mut c, &["GET", "k"]).as_deref(), Some("v1"));
        let o = redis_cli(&[&tls[..], &["GET", "plain"]].concat()).unwrap();
        assert_eq!(stdout(&o), "yes", "{o:?}");
    }
    if let Some(o) = python(&certs, tls_port, false) {
        assert_eq!(stdout(&o), "over tls", "{o:?}");
        assert_eq!(
            common::bulk(&mut c, &["GET", "py-key"]).as_deref(),
            Some("over tls")
        );
    }
    // plain text on the TLS port: refused (a TLS alert at most), then closed
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(b"PING\r\n").unwrap();
    let mut got = Vec::new();
    let _ = raw.read_to_end(&mut got);
    assert!(!got.starts_with(b"+PONG"), "{got:?}");
    assert!(got.len() < 16, "more than an alert: {got:?}");
    assert_eq!(common::query::<String>(&mut c, &["PING"]), "PONG");
    if let Some(o) = python(&certs, tls_port, false) {
        assert_eq!(stdout(&o), "over tls", "{o:?}");
    }
}

#[test]
fn client_certificates_are_required_with_a_ca() {
    let Some(certs) = Certs::make() else { return };
    let tls_port = free_port();
    let ca = certs.path("ca.crt");
    let server = start(&certs, tls_port, &["--tls-ca-cert-file", &ca]);
    let mut c = server.conn();
    assert_eq!(
        common::query::<Vec<String>>(&mut c, &["CONFIG", "GET", "tls-auth-clients"]),
        ["tls-auth-clients", "yes"]
    );
    let port = tls_port.to_string();
    let tls = ["--tls", "--cacert", &ca, "-p", &port];
    if let Some(o) = redis_cli(&[&tls[..], &["PING"]].concat()) {
        assert_ne!(stdout(&o), "PONG", "no client certificate: {o:?}");
        let (cert, key) = (certs.path("client.crt"), certs.path("client.key"));
        let with_cert = [&tls[..], &["--cert", &cert, "--key", &key, "PING"]].concat();
        let o = redis_cli(&with_cert).unwrap();
        assert_eq!(stdout(&o), "PONG", "{o:?}");
    }
    if let Some(o) = python(&certs, tls_port, false) {
        assert!(!o.status.success(), "no client certificate: {o:?}");
    }
    if let Some(o) = python(&certs, tls_port, true) {
        assert_eq!(stdout(&o), "over tls", "{o:?}");
    }
    // optional: both are accepted
    drop(server);
    let tls_port = free_port();
    let _server = start(
        &certs,
        tls_port,
        &["--tls-ca-cert-file", &ca, "--tls-auth-clients", "optional"],
    );
    for client_cert in [false, true] {
        if let Some(o) = python(&certs, tls_port, client_cert) {
            assert_eq!(stdout(&o), "over tls", "{o:?}");
        }
    }
}

/// Starts the binary with TLS from `cert` and `key` (and `extra` flags),
/// expecting it to fail at startup; returns stderr.
fn startup_error(cert: &str, key: &str, extra: &[&str]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary())
        .args(["--port", &free_port().to_string(), "--shards", "1", "--dir"])
        .arg(data.path().join("data"))
        .args(["--tls-port", &free_port().to_string()])
        .args(["--tls-cert-file", cert, "--tls-key-file", key])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("started with {cert} {key} {extra:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "started: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unreadable_certificate_or_key_stops_startup() {
    let Some(certs) = Certs::make() else { return };
    let (cert, key) = (certs.path("server.crt"), certs.path("server.key"));
    let missing = certs.path("missing.crt");
    let err = startup_error(&missing, &key, &[]);
    assert!(
        err.contains("tls-cert-file") && err.contains(&missing),
        "{err}"
    );
    // a key file without a PEM key in it
    let not_pem = certs.path("server.ext");
    let err = startup_error(&cert, &not_pem, &[]);
    assert!(
        err.contains("tls-key-file") && err.contains(&not_pem),
        "{err}"
    );
    // a key that does not belong to the certificate
    let other = certs.path("client.key");
    let err = startup_error(&cert, &other, &[]);
    assert!(err.contains(&other), "{err}");
    let err = startup_error(&cert, &key, &["--tls-auth-clients", "yes"]);
    assert!(err.contains("tls-ca-cert-file"), "{err}");
    let err = startup_error(&cert, &key, &["--tls-ca-cert-file", &missing]);
    assert!(
        err.contains("tls-ca-cert-file") && err.contains(&missing),
        "{err}"
    );
}

/// The idle timeout closes TLS clients too, and subscribers over TLS get
/// their messages.
#[test]
fn idle_timeout_and_pubsub_over_tls() {
    let Some(certs) = Certs::make() else { return };
    let tls_port = free_port();
    let server = start(&certs, tls_port, &[]);
    let mut c = server.conn();
    let _: () = common::query(&mut c, &["CONFIG", "SET", "timeout", "1"]);
    let script = r#"
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
def connect():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")
idle = connect()
idle.sendall(b"PING\r\n")
assert idle.recv(100) == b"+PONG\r\n"
sub = connect()
sub.sendall(b"SUBSCRIBE ch\r\n")
assert sub.recv(100).startswith(b"*3\r\n$9\r\nsubscribe")
time.sleep(2.5)
print("idle closed" if idle.recv(100) == b"" else "idle open")
print(sub.recv(100).decode().split())
"#;
    let spawned = Command::new("python3")
        .args(["-c", script, &tls_port.to_string(), &certs.path("ca.crt")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(child) = spawned else {
        eprintln!("skipped: python3 is not installed");
        return;
    };
    std::thread::sleep(Duration::from_millis(1500));
    // a fresh connection: `c` has been idle longer than the timeout
    let n: i64 = common::query(&mut server.conn(), &["PUBLISH", "ch", "hello"]);
    assert_eq!(n, 1);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("idle closed"), "{out:?}");
    assert!(
        text.contains("'message', '$2', 'ch', '$5', 'hello'"),
        "{out:?}"
    );
}
