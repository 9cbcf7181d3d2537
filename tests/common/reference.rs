//! The reference implementation: a real redis-server, and helpers to send
//! the same commands to it and to DiskDB.
use super::{err_text, free_port, Raw, Server};
use redis::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real redis-server on a free port, stopped on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// A new connection to it.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts redis-server (installed by scripts/setup.sh).
pub fn start_redis() -> RedisServer {
    start_redis_with(&[])
}

/// Starts redis-server with extra arguments.
pub fn start_redis_with(extra: &[&str]) -> RedisServer {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
        .args(extra)
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server is needed for the differential test ({e}); scripts/setup.sh installs it"));
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return RedisServer {
                child,
                port,
                _dir: dir,
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server did not start on port {port}");
}

/// Runs a command and renders its reply (or error) as comparable text.
pub fn run(con: &mut redis::Connection, args: &[String]) -> String {
    let mut c = redis::cmd(&args[0]);
    for a in &args[1..] {
        c.arg(a);
    }
    match c.query::<Value>(con) {
        Ok(v) => normalize(v),
        Err(e) => format!("ERR<{}>", err_text(&e)),
    }
}

/// What a write makes known about `key` on the server at `url`, as text
/// to compare with redis-server's: after `setup` (space-separated
/// commands), a client WATCHes `key`, another runs `write`: the write's
/// reply and whether the watcher's EXEC still ran (its reply, or nil), and
/// the keyspace events published meanwhile, in arrival order.
pub fn watch_and_events(
    url: &str,
    setup: &[&str],
    key: &str,
    write: &str,
) -> (String, Vec<String>) {
    let client = redis::Client::open(url).unwrap();
    let mut a = client.get_connection().unwrap();
    let mut b = client.get_connection().unwrap();
    let words = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
    run(&mut a, &words(&format!("DEL {key}")));
    for cmd in setup {
        run(&mut a, &words(cmd));
    }
    events_during(&client, &mut a, |a| {
        run(a, &words(&format!("WATCH {key}")));
        let written = run(&mut b, &words(write));
        run(a, &words("MULTI"));
        run(a, &words("PING"));
        let exec = run(a, &words("EXEC"));
        format!("{written} -> {exec}")
    })
}

/// Runs `f` on `con` with keyspace notifications on (KEA) and returns its
/// result with the keyevent messages of every database published
/// meanwhile, in arrival order (read up to a marker key written after).
pub fn events_during<T>(
    client: &redis::Client,
    con: &mut redis::Connection,
    f: impl FnOnce(&mut redis::Connection) -> T,
) -> (T, Vec<String>) {
    let words = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
    run(con, &words("CONFIG SET notify-keyspace-events KEA"));
    let mut events = client.get_connection().unwrap();
    let mut events = events.as_pubsub();
    events.psubscribe("__keyevent@*__:*").unwrap();
    events
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let out = f(con);
    run(con, &words("SET events-during-marker 1"));
    let mut heard = Vec::new();
    while let Ok(m) = events.get_message() {
        let payload: String = m.get_payload().unwrap();
        if payload == "events-during-marker" {
            break;
        }
        heard.push(format!("{} {payload}", m.get_channel_name()));
    }
    (out, heard)
}

/// Canonical text of a reply; KEYS-style arrays are compared as sorted.
/// Canonical text of a reply.
pub fn normalize(v: Value) -> String {
    format!("{v:?}")
}

/// Connections to a fresh redis-server and a fresh 2-shard DiskDB.
pub struct Pair {
    pub redis: RedisServer,
    pub diskdb: Server,
    pub theirs: redis::Connection,
    pub ours: redis::Connection,
}

impl Pair {
    pub fn start() -> Pair {
        let redis = start_redis();
        let diskdb = Server::start(2, &[]);
        let theirs = redis.conn();
        let ours = diskdb.conn();
        Pair {
            redis,
            diskdb,
            theirs,
            ours,
        }
    }

    /// Sends `cmd` to both; returns (diskdb reply, redis reply).
    pub fn both(&mut self, cmd: &[String]) -> (String, String) {
        (run(&mut self.ours, cmd), run(&mut self.theirs, cmd))
    }

    /// Sends `cmd` to both and asserts identical replies.
    pub fn same(&mut self, cmd: &[String], context: &str) {
        let (ours, theirs) = self.both(cmd);
        assert_eq!(
            ours, theirs,
            "{context}: {cmd:?}\n diskdb: {ours}\n redis:  {theirs}"
        );
    }
}

/// A command as RESP bytes.
pub fn resp<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs `script` on a fresh connection and returns all reply bytes, to be
/// compared byte for byte with another server's.
pub fn session<'s, C: AsRef<[&'s str]>>(port: u16, script: &[C]) -> String {
    let mut raw = Raw::connect(port);
    let mut req = Vec::new();
    for c in script {
        req.extend(resp(c.as_ref()));
    }
    req.extend(resp(&["ECHO", "end-of-script"]));
    raw.send(&req);
    String::from_utf8_lossy(&raw.read_until(b"$13\r\nend-of-script\r\n")).into_owned()
}

/// HELLO's reply carries the connection id, which differs between servers.
pub fn mask_client_id(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("$2\r\nid\r\n:") {
        let start = at + "$2\r\nid\r\n:".len();
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find("\r\n").unwrap();
        out.push('N');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}
