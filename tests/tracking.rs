//! CLIENT TRACKING against a real redis-server: the same scripts of
//! commands on several raw connections of each server, and every byte each
//! connection receives (replies and invalidation messages) must match.
mod common;
use common::reference::start_redis;
use common::{Raw, Server};

/// A command as RESP.
fn resp(words: &[String]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
    }
    out
}

/// Raw connections to one server, run through a script.
struct Session {
    conns: Vec<Raw>,
    /// Which connections are subscribed in RESP2 (PING answers in kind).
    subscribed: Vec<bool>,
    /// Which connections are inside MULTI (commands answer QUEUED).
    in_multi: Vec<bool>,
    /// Client id of connection 0 (`{r}` in scripts and transcripts).
    redirect_id: String,
}

impl Session {
    fn open(port: u16, n: usize) -> Session {
        let mut s = Session {
            conns: (0..n).map(|_| Raw::connect(port)).collect(),
            subscribed: vec![false; n],
            in_multi: vec![false; n],
            redirect_id: String::new(),
        };
        let id = s.step(0, "CLIENT ID");
        s.redirect_id = id[1..id.find('\r').unwrap()].to_string();
        s
    }

    /// Sends `line` on connection `i`, then a marker command, and returns
    /// everything received up to the marker's reply (pushes included),
    /// with connection 0's id written as `{r}`.
    fn step(&mut self, i: usize, line: &str) -> String {
        let words: Vec<String> = line
            .split(' ')
            .map(|w| w.replace("{r}", &self.redirect_id))
            .collect();
        if words[0].eq_ignore_ascii_case("SUBSCRIBE") {
            self.subscribed[i] = true;
        }
        let first = words[0].to_ascii_uppercase();
        if first == "MULTI" || self.in_multi[i] && first != "EXEC" {
            // no marker inside MULTI: it would be queued too
            let reply: &[u8] = if first == "MULTI" {
                b"+OK\r\n"
            } else {
                b"+QUEUED\r\n"
            };
            self.in_multi[i] = true;
            let c = &mut self.conns[i];
            c.send(&resp(&words));
            return String::from_utf8_lossy(&c.read_until(reply)).into_owned();
        }
        self.in_multi[i] = false;
        let (marker, reply) = if self.subscribed[i] {
            (
                "PING end-of-step",
                b"*2\r\n$4\r\npong\r\n$11\r\nend-of-step\r\n".to_vec(),
            )
        } else {
            ("ECHO end-of-step", b"$11\r\nend-of-step\r\n".to_vec())
        };
        let c = &mut self.conns[i];
        c.send(&resp(&words));
        let marker: Vec<String> = marker.split(' ').map(str::to_string).collect();
        c.send(&resp(&marker));
        let mut got = String::from_utf8_lossy(&c.read_until(&reply)).into_owned();
        if words[0].eq_ignore_ascii_case("HELLO") {
            got = "(HELLO's reply, with its client id)".into();
        }
        // connection 0's id where it is reported (ids differ by server)
        let id = format!(":{}\r\n", self.redirect_id);
        for before in ["redirect\r\n", "tracking-redir-broken\r\n", ""] {
            let whole = line.contains("GETREDIR") || !before.is_empty();
            if whole && !self.redirect_id.is_empty() {
                got = got.replace(&format!("{before}{id}"), &format!("{before}:{{r}}\r\n"));
            }
        }
        got
    }
}

/// Runs `script` ((connection, command) steps) on both servers and
/// compares what each connection received at each step.
fn compare(redis_port: u16, ours_port: u16, conns: usize, script: &[(usize, &str)]) {
    let mut theirs = Session::open(redis_port, conns);
    let mut mine = Session::open(ours_port, conns);
    for (n, &(i, line)) in script.iter().enumerate() {
        let (a, b) = (theirs.step(i, line), mine.step(i, line));
        assert_eq!(b, a, "step {n}: connection {i}: {line}");
    }
}

#[test]
fn invalidations_match_redis_server() {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    let (r, o) = (redis_srv.port, ours.port);
    // connections: 0 redirect target (RESP2, subscribed), 1 writer,
    // 2 default mode (RESP3), 3 BCAST (RESP3), 4 OPTIN (RESP3),
    // 5 RESP2 redirected to 0, 6 NOLOOP (RESP3)
    let script: &[(usize, &str)] = &[
        (1, "FLUSHALL"),
        (1, "MSET k 1 {k}2 2 user:1 a other 3 opt1 x opt2 y loop 1"),
        (0, "SUBSCRIBE __redis__:invalidate"),
        (2, "HELLO 3"),
        (2, "CLIENT TRACKING ON"),
        (2, "GET k"),
        (2, "MGET {k}2 missing"),
        (1, "SET k 2"),
        (2, "PING"),
        (1, "SET k 3"),
        (2, "PING"),
        (1, "INCR {k}2"),
        (1, "SET missing 1"),
        (2, "PING"),
        (1, "SADD st a"),
        (2, "SISMEMBER st a"),
        (1, "SADD st a"),
        (2, "PING"),
        (1, "SADD st b"),
        (2, "PING"),
        (1, "SETBIT bt 3 1"),
        (2, "GETBIT bt 3"),
        (1, "SETBIT bt 3 1"),
        (2, "PING"),
        (1, "SETBIT bt 30 0"),
        (2, "PING"),
        (1, "RPUSH lt a b"),
        (2, "LLEN lt"),
        (1, "LTRIM lt 0 -1"),
        (2, "PING"),
        (2, "GET k"),
        (2, "SET k 4"),
        (3, "HELLO 3"),
        (3, "CLIENT TRACKING ON BCAST PREFIX user: PREFIX ord"),
        (1, "SET user:1 b"),
        (1, "SET other 4"),
        (1, "DEL user:1"),
        (3, "PING"),
        (3, "CLIENT TRACKINGINFO"),
        (4, "HELLO 3"),
        (4, "CLIENT TRACKING ON OPTIN"),
        (4, "GET opt1"),
        (4, "CLIENT CACHING YES"),
        (4, "GET opt2"),
        (4, "GET opt1"),
        (1, "SET opt1 z"),
        (1, "SET opt2 z"),
        (4, "PING"),
        (4, "CLIENT TRACKINGINFO"),
        (5, "CLIENT TRACKING ON REDIRECT {r}"),
        (5, "CLIENT GETREDIR"),
        (5, "GET k"),
        (1, "SET k 5"),
        (0, "PING"),
        (6, "HELLO 3"),
        (6, "CLIENT TRACKING ON NOLOOP"),
        (6, "GET loop"),
        (6, "INCR loop"),
        (1, "INCR loop"),
        (6, "PING"),
        (6, "GET loop"),
        (1, "INCR loop"),
        (6, "PING"),
        (2, "GET k"),
        (1, "FLUSHDB"),
        (2, "PING"),
        (3, "PING"),
        (0, "PING"),
        (4, "CLIENT CACHING YES"),
        (4, "MULTI"),
        (4, "GET {m}1"),
        (4, "GET {m}2"),
        (4, "EXEC"),
        (4, "GET {m}3"),
        (1, "MSET {m}1 a {m}2 b {m}3 c"),
        (4, "PING"),
        (2, "GET {t}5"),
        (2, "GET {t}6"),
        (2, "MULTI"),
        (2, "SET {t}5 1"),
        (2, "SET {t}6 1"),
        (2, "GET {t}7"),
        (2, "EXEC"),
        (2, "PING"),
        (2, "GET k"),
        (2, "FLUSHALL"),
        (2, "PING"),
        (3, "PING"),
        (2, "CLIENT TRACKING OFF"),
        (2, "GET k"),
        (1, "SET k 6"),
        (2, "PING"),
        (2, "CLIENT TRACKINGINFO"),
        (2, "CLIENT GETREDIR"),
    ];
    compare(r, o, 7, script);
}

#[test]
fn tracking_errors_match_redis_server() {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    let script: &[(usize, &str)] = &[
        (1, "CLIENT TRACKING MAYBE"),
        (1, "CLIENT TRACKING ON BOGUS"),
        (1, "CLIENT TRACKING ON PREFIX a"),
        (1, "CLIENT TRACKING ON REDIRECT 999999"),
        (1, "CLIENT TRACKING ON REDIRECT x"),
        (1, "CLIENT TRACKING ON REDIRECT {r} REDIRECT {r}"),
        (1, "CLIENT TRACKING ON BCAST OPTIN"),
        (1, "CLIENT TRACKING ON OPTIN OPTOUT"),
        (1, "CLIENT TRACKING ON BCAST PREFIX ab PREFIX a"),
        (1, "CLIENT CACHING YES"),
        (1, "CLIENT TRACKING ON OPTOUT"),
        (1, "CLIENT CACHING YES"),
        (1, "CLIENT CACHING MAYBE"),
        (1, "CLIENT CACHING NO"),
        (1, "CLIENT TRACKINGINFO"),
        (1, "CLIENT TRACKING ON OPTIN"),
        (1, "CLIENT TRACKING ON BCAST"),
        (1, "CLIENT TRACKING OFF"),
        (1, "CLIENT TRACKING ON BCAST PREFIX a"),
        (1, "CLIENT TRACKING ON BCAST PREFIX ab"),
        (1, "CLIENT TRACKING ON BCAST PREFIX b"),
        (1, "CLIENT TRACKINGINFO"),
        (1, "CLIENT TRACKING ON"),
        (1, "CLIENT GETREDIR"),
        (1, "CLIENT TRACKING"),
        (1, "CLIENT TRACKING OFF"),
        (1, "CLIENT TRACKING ON OPTOUT"),
        (1, "CLIENT CACHING NO"),
        (1, "MULTI"),
        (1, "GET q1"),
        (1, "EXEC"),
        (0, "SET q1 1"),
        (1, "PING"),
        (1, "CLIENT UNBLOCK 1 TIMEOUT x"),
        (1, "CLUSTER INFO x"),
        (1, "CLUSTER KEYSLOT"),
        (1, "CLUSTER SETSLOT 1"),
        (1, "ASKING"),
        (1, "REPLICAOF x y"),
        (1, "REPLICAOF host 70000"),
    ];
    compare(redis_srv.port, ours.port, 2, script);
}

/// Runs `run` (given a port) against a fresh redis-server and a fresh
/// two-shard DiskDB, and compares what it collected.
fn same_on_both(run: impl Fn(u16) -> Vec<String>) {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    assert_eq!(run(ours.port), run(redis_srv.port));
}

/// The `flags=` and `redir=` fields of CLIENT INFO on connection `i`
/// (the rest of the line differs between servers).
fn client_flags(s: &mut Session, i: usize) -> String {
    let info = s.step(i, "CLIENT INFO");
    let redir = format!("redir={}", s.redirect_id);
    info.split([' ', '\n'])
        .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
        .map(|f| if f == redir { "redir={r}" } else { f })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn client_info_shows_tracking_as_redis_server_does() {
    same_on_both(|port: u16| -> Vec<String> {
        let mut s = Session::open(port, 2);
        let mut out = vec![client_flags(&mut s, 1)];
        for line in [
            "CLIENT TRACKING ON",
            "CLIENT TRACKING ON REDIRECT {r}",
            "CLIENT TRACKING OFF",
            "CLIENT TRACKING ON BCAST",
            "CLIENT TRACKING OFF",
        ] {
            s.step(1, line);
            out.push(client_flags(&mut s, 1));
        }
        out
    });
}

#[test]
fn a_broken_redirect_is_reported_as_in_redis_server() {
    // connection 0 is the redirect target; it goes away before the write
    same_on_both(|port: u16| -> Vec<String> {
        let mut s = Session::open(port, 3);
        let mut out = vec![
            s.step(1, "HELLO 3"),
            s.step(1, "CLIENT TRACKING ON REDIRECT {r}"),
            s.step(1, "GET k"),
        ];
        s.conns[0].send(&resp(&["QUIT".to_string()]));
        s.conns[0].read_until(b"+OK\r\n");
        assert!(s.conns[0].closed());
        std::thread::sleep(std::time::Duration::from_millis(200));
        out.push(s.step(1, "CLIENT TRACKINGINFO"));
        out.push(client_flags(&mut s, 1));
        out.push(s.step(2, "SET k 1"));
        out.push(s.step(1, "PING"));
        out.push(s.step(1, "CLIENT TRACKINGINFO"));
        out.push(client_flags(&mut s, 1));
        out
    });
}

#[test]
fn info_counts_tracking_clients_and_keys() {
    let ours = Server::start(2, &[]);
    let mut reader = Raw::connect(ours.port);
    reader.send(&resp(&["HELLO".into(), "3".into()]));
    reader.read_until(b"*0\r\n");
    for cmd in [["CLIENT", "TRACKING", "ON"], ["MGET", "a", "b"]] {
        let words: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        reader.send(&resp(&words));
    }
    reader.read_until(b"_\r\n_\r\n");
    let mut c = ours.conn();
    assert_eq!(common::info_number(&mut c, "tracking_clients"), 1);
    assert_eq!(common::info_number(&mut c, "tracking_total_keys"), 2);
    let _: () = redis::cmd("SET").arg("a").arg(1).query(&mut c).unwrap();
    assert_eq!(common::info_number(&mut c, "tracking_total_keys"), 1);
    drop(reader);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(common::info_number(&mut c, "tracking_clients"), 0);
}

#[test]
fn a_blocked_client_gets_its_invalidations_at_once_as_in_redis_server() {
    same_on_both(|port: u16| -> Vec<String> {
        let mut s = Session::open(port, 3);
        let mut out = vec![
            s.step(1, "HELLO 3"),
            s.step(1, "CLIENT TRACKING ON"),
            s.step(1, "GET k"),
        ];
        // BLPOP blocks: no marker after it
        let blpop: Vec<String> = ["BLPOP", "blk", "0"].map(String::from).to_vec();
        s.conns[1].send(&resp(&blpop));
        std::thread::sleep(std::time::Duration::from_millis(100));
        out.push(s.step(2, "SET k 1"));
        let push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
        out.push(String::from_utf8_lossy(&s.conns[1].read_until(push)).into_owned());
        out.push(s.step(2, "RPUSH blk x"));
        let popped = b"*2\r\n$3\r\nblk\r\n$1\r\nx\r\n";
        out.push(String::from_utf8_lossy(&s.conns[1].read_until(popped)).into_owned());
        out
    });
}
