//! Test harness: starts the real `diskdb` binary on a free port with a
//! temporary data directory, and talks to it over TCP.
#![allow(dead_code)]

pub mod reference;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process; killed when dropped.
pub struct Server {
    pub child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    pub args: Vec<String>,
    /// Extra environment variables for the process.
    pub envs: Vec<(String, String)>,
    _tmp: Option<tempfile::TempDir>,
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_diskdb")
}

impl Server {
    /// Starts a server with `shards` shards and extra flags.
    pub fn start(shards: usize, extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut s = Server {
            child: None,
            port: 0,
            dir,
            args: extra.iter().map(|s| s.to_string()).collect(),
            envs: Vec::new(),
            _tmp: Some(tmp),
        };
        s.args.push("--shards".into());
        s.args.push(shards.to_string());
        s.launch();
        s
    }

    /// Starts a server on an existing directory (not deleted afterwards).
    pub fn open(dir: &Path, shards: usize, extra: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            port: 0,
            dir: dir.to_path_buf(),
            args: extra.iter().map(|s| s.to_string()).collect(),
            envs: Vec::new(),
            _tmp: None,
        };
        s.args.push("--shards".into());
        s.args.push(shards.to_string());
        s.launch();
        s
    }

    /// (Re)starts the process on the same directory, on a new port.
    pub fn launch(&mut self) {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(binary())
                .arg("--port")
                .arg(port.to_string())
                .arg("--dir")
                .arg(&self.dir)
                .args(&self.args)
                .envs(self.envs.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start diskdb");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = [0u8; 7];
                    if s.write_all(b"PING\r\n").is_ok()
                        && s.read_exact(&mut buf).is_ok()
                        // NOAUTH: up, with a password required
                        && (&buf == b"+PONG\r\n" || &buf == b"-NOAUTH")
                    {
                        self.port = port;
                        self.child = Some(child);
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("diskdb did not start (dir {})", self.dir.display());
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A `redis` crate connection.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        unsafe { libc_kill(c.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        None
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One field of INFO (any section), if present.
pub fn info_field(c: &mut redis::Connection, field: &str) -> Option<String> {
    let text: String = redis::cmd("INFO").arg("everything").query(c).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// The value of `field=` in a CLIENT LIST or CLIENT INFO line.
pub fn client_field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    line.split_whitespace().find_map(|kv| {
        kv.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

/// A numeric field of INFO; panics if it is missing.
pub fn info_number(c: &mut redis::Connection, field: &str) -> u64 {
    info_field(c, field)
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .parse()
        .unwrap_or_else(|e| panic!("INFO {field}: {e}"))
}

/// Redis's WRONGTYPE error text.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A `redis::Cmd` from string arguments.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Runs a command and converts its reply, panicking with the command on error.
pub fn query<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    cmd(args)
        .query(c)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// An integer reply.
pub fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    query(c, args)
}

/// A bulk-string-or-nil reply.
pub fn bulk(c: &mut redis::Connection, args: &[&str]) -> Option<String> {
    query(c, args)
}

/// An array of strings.
pub fn strings(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    query(c, args)
}

/// An array of strings, sorted (for replies in no promised order).
pub fn sorted(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    let mut v = strings(c, args);
    v.sort();
    v
}

/// Runs a command on a new connection in a thread; returns its reply (an
/// error as a simple string) and how long it took. For blocking commands.
pub fn spawn_command(
    s: &Server,
    args: &[&str],
) -> std::thread::JoinHandle<(redis::Value, Duration)> {
    let mut c = s.conn();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    std::thread::spawn(move || {
        let t = Instant::now();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = cmd(&refs)
            .query::<redis::Value>(&mut c)
            .unwrap_or_else(|e| redis::Value::SimpleString(e.to_string()));
        (v, t.elapsed())
    })
}

/// SETs each of `keys` to `value`, in one pipeline.
pub fn set_all(c: &mut redis::Connection, keys: impl IntoIterator<Item = String>, value: &str) {
    let mut p = redis::pipe();
    for k in keys {
        p.cmd("SET").arg(k).arg(value).ignore();
    }
    let _: () = p.query(c).unwrap();
}

/// Lets spawned clients reach the server and block.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

/// Every key a full SCAN returns with the extra options, sorted.
pub fn scan_all(c: &mut redis::Connection, options: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(options);
        let (next, keys): (String, Vec<String>) = query(c, &args);
        found.extend(keys);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    found.sort();
    found
}

/// Runs a command and returns the result as a redis::Value.
pub fn q(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => v,
        Err(e) => redis::Value::SimpleString(format!("ERROR: {}", err_text(&e))),
    }
}

/// The full error text Redis would send (code + message).
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Runs a command expecting an error; returns its text.
pub fn q_err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("expected an error from {args:?}, got {v:?}"),
        Err(e) => err_text(&e),
    }
}

/// A raw TCP connection for protocol-level tests.
pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { s }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Reads until `n` bytes arrived or the peer closed.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while out.len() < n {
            match self.s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => out.extend_from_slice(&buf[..k]),
            }
        }
        out
    }

    /// Sends and reads exactly the expected bytes back, comparing.
    pub fn roundtrip(&mut self, req: &[u8], expect: &[u8]) {
        self.send(req);
        let got = self.read_n(expect.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expect),
            "request {:?}",
            String::from_utf8_lossy(req)
        );
    }

    /// Reads until the received bytes end with `suffix`.
    pub fn read_until(&mut self, suffix: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while !out.ends_with(suffix) {
            match self.s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => out.extend_from_slice(&buf[..k]),
            }
        }
        out
    }

    /// Whether the server closed the connection.
    pub fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(self.s.read(&mut buf), Ok(0) | Err(_))
    }
}
