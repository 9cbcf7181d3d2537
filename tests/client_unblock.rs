//! CLIENT UNBLOCK against a real redis-server: each blocking command is
//! ended as if timed out or with the UNBLOCKED error, CLIENT LIST shows the
//! blocked client's `b` flag meanwhile, and the replies are identical.
mod common;
use common::reference::{run, start_redis};
use common::Server;
use std::time::{Duration, Instant};

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(str::to_string).collect()
}

/// Runs `blocking` on a connection of its own, unblocks it with `unblock`
/// (`{id}` replaced by its client id) once CLIENT LIST shows it blocked,
/// and returns (the blocked command's reply, CLIENT UNBLOCK's reply,
/// a second CLIENT UNBLOCK's reply).
fn unblocked(url: &str, blocking: &str, unblock: &str) -> (String, String, String) {
    let client = redis::Client::open(url).unwrap();
    let mut blocked = client.get_connection().unwrap();
    let mut control = client.get_connection().unwrap();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut blocked).unwrap();
    let cmd = words(blocking);
    let waiter = std::thread::spawn(move || run(&mut blocked, &cmd));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut control)
            .unwrap();
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .unwrap_or("");
        if line.contains(" flags=b ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{blocking} never showed as blocked: {line}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let unblock = words(&unblock.replace("{id}", &id.to_string()));
    let first = run(&mut control, &unblock);
    let reply = waiter.join().unwrap();
    (reply, first, run(&mut control, &unblock))
}

#[test]
fn client_unblock_matches_redis_server() {
    let redis_srv = start_redis();
    let ours = Server::start(2, &[]);
    let urls = [format!("redis://127.0.0.1:{}/", redis_srv.port), ours.url()];
    let cases = [
        ("BLPOP q1 0", "CLIENT UNBLOCK {id}"),
        ("BLPOP q1 {q}2 0", "CLIENT UNBLOCK {id} ERROR"),
        ("BRPOPLPUSH q1 q2 0", "CLIENT UNBLOCK {id} timeout"),
        ("BLMOVE q1 q2 LEFT RIGHT 100", "CLIENT UNBLOCK {id} error"),
        ("BLMPOP 0 2 q1 q2 LEFT", "CLIENT UNBLOCK {id}"),
        ("BZPOPMIN z1 0", "CLIENT UNBLOCK {id} ERROR"),
        ("BZMPOP 0 1 z1 MAX", "CLIENT UNBLOCK {id} TIMEOUT"),
        ("XREAD BLOCK 0 STREAMS s1 $", "CLIENT UNBLOCK {id}"),
        (
            "XREAD BLOCK 0 STREAMS s1 s2 $ $",
            "CLIENT UNBLOCK {id} ERROR",
        ),
        ("WAIT 1 0", "CLIENT UNBLOCK {id}"),
        ("WAIT 2 100000", "CLIENT UNBLOCK {id} ERROR"),
    ];
    for (blocking, unblock) in cases {
        let [theirs, ours] = urls.clone().map(|u| unblocked(&u, blocking, unblock));
        assert_eq!(
            ours, theirs,
            "{blocking} / {unblock}: (reply, unblock, again)"
        );
    }
    let errors = [
        "CLIENT UNBLOCK 1 MAYBE",
        "CLIENT UNBLOCK x",
        "CLIENT UNBLOCK x ERROR",
        "CLIENT UNBLOCK 1 ERROR extra",
        "CLIENT UNBLOCK 999999",
        "CLIENT UNBLOCK",
    ];
    let mut theirs = redis_srv.conn();
    let mut mine = ours.conn();
    for e in errors {
        assert_eq!(
            run(&mut mine, &words(e)),
            run(&mut theirs, &words(e)),
            "{e}"
        );
    }
    // a later block is served as usual, not cut short by an old unblock
    let mut c = ours.conn();
    let _: i64 = redis::cmd("RPUSH")
        .arg("q1")
        .arg("a")
        .query(&mut c)
        .unwrap();
    let popped: (String, String) = redis::cmd("BLPOP").arg("q1").arg(1).query(&mut c).unwrap();
    assert_eq!(popped, ("q1".to_string(), "a".to_string()));
}
