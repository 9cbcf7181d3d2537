//! SORT and SORT_RO against a real redis-server: random lists, sets and
//! sorted sets, sorted by themselves or by other keys (strings and hash
//! fields, on either shard), with GET, LIMIT, ASC/DESC, ALPHA and STORE;
//! every reply and every stored list must be identical.
mod common;
use common::reference::run;
use common::reference::Pair;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Elements that sort as numbers (strtod's forms included).
const NUMBERS: &[&str] = &[
    "1", "2", "10", "-3", "2.5", "07", "1e2", " 4", "0", "-0.5", "inf", "0x10", "-0X1p-2",
];
/// Elements that do not. (No out-of-range number such as 1e400: Redis
/// leaves errno set after one, and every later numeric SORT fails.)
const WORDS: &[&str] = &["apple", "b", "Banana", "a1", "", "zz", "nan", "3x"];

fn pick<'a>(r: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[r.random_range(0..from.len())]
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(str::to_string).collect()
}

/// Rebuilds the source keys and the keys patterns name, the same on both
/// servers.
fn populate(r: &mut StdRng, c: &mut [&mut redis::Connection; 2]) {
    let mut cmds: Vec<Vec<String>> = vec![words("FLUSHALL")];
    let numeric = r.random_range(0..3) > 0;
    let element = |r: &mut StdRng| {
        if numeric || r.random_range(0..8) == 0 {
            pick(r, NUMBERS).to_string()
        } else {
            pick(r, WORDS).to_string()
        }
    };
    for key in ["l", "s", "z"] {
        for _ in 0..r.random_range(0..9) {
            let e = element(r);
            cmds.push(match key {
                "l" => vec!["RPUSH".into(), key.into(), e],
                "s" => vec!["SADD".into(), key.into(), e],
                _ => vec![
                    "ZADD".into(),
                    key.into(),
                    r.random_range(-5..5).to_string(),
                    e,
                ],
            });
        }
    }
    cmds.push(words("SET str 1"));
    for (i, e) in NUMBERS.iter().chain(WORDS).enumerate() {
        // w_: numeric weights with ties and gaps; u_: distinct strings
        // (ALPHA BY leaves ties in an unspecified order); h_: hash fields
        if r.random_range(0..4) > 0 {
            cmds.push(vec![
                "SET".into(),
                format!("w_{e}"),
                r.random_range(-3..4).to_string(),
            ]);
        }
        cmds.push(vec![
            "SET".into(),
            format!("u_{e}"),
            format!("{}{i}", (b'a' + r.random_range(0..26u8)) as char),
        ]);
        if r.random_range(0..3) > 0 {
            cmds.push(vec![
                "HSET".into(),
                format!("h_{e}"),
                "f".into(),
                r.random_range(0..50).to_string(),
            ]);
        }
    }
    cmds.push(words("HSET h_1 g x"));
    cmds.push(words("RPUSH dst old"));
    for cmd in cmds {
        let (a, b) = (run(c[0], &cmd), run(c[1], &cmd));
        assert_eq!(b, a, "setup {cmd:?}");
    }
}

/// A random SORT or SORT_RO command over the populated keys.
fn sort_command(r: &mut StdRng) -> Vec<String> {
    let ro = r.random_range(0..4) == 0;
    let key = pick(r, &["l", "l", "s", "z", "z", "none", "str"]);
    let mut v = vec![
        if ro { "SORT_RO" } else { "SORT" }.to_string(),
        key.to_string(),
    ];
    let alpha = r.random_range(0..3) == 0;
    if r.random_range(0..2) == 0 {
        let by = match (alpha, r.random_range(0..5)) {
            (true, 0..=2) => "u_*",
            (false, 0..=1) => "w_*",
            (false, 2) => "h_*->f",
            (false, 3) => "h_*->nofield",
            // without * (no sorting): only where the order is defined
            _ if key == "s" && alpha => "u_*",
            _ if key == "s" => "w_*",
            _ => "nosort",
        };
        v.extend(["BY".to_string(), by.to_string()]);
    }
    if alpha {
        v.push("ALPHA".into());
    }
    for _ in 0..r.random_range(0..3) {
        let get = pick(r, &["#", "w_*", "h_*->f", "u_*", "nostar", "h_*->"]);
        v.extend(["GET".to_string(), get.to_string()]);
    }
    if r.random_range(0..3) == 0 {
        v.extend([
            "LIMIT".to_string(),
            r.random_range(-1..6).to_string(),
            r.random_range(-1..5).to_string(),
        ]);
    }
    match r.random_range(0..3) {
        0 => v.push("DESC".into()),
        1 => v.push("asc".into()),
        _ => {}
    }
    if !ro && r.random_range(0..3) == 0 {
        v.extend(["STORE".to_string(), "dst".to_string()]);
    }
    v
}

#[test]
fn sort_matches_redis_server() {
    let mut p = Pair::start();
    let mut r = StdRng::seed_from_u64(5);
    let mut compared = 0;
    for round in 0..60 {
        populate(&mut r, &mut [&mut p.theirs, &mut p.ours]);
        for step in 0..25 {
            let cmd = sort_command(&mut r);
            let (a, b) = (run(&mut p.theirs, &cmd), run(&mut p.ours, &cmd));
            assert_eq!(
                b, a,
                "round {round} step {step}: {cmd:?}\n diskdb: {b}\n redis:  {a}"
            );
            let stored = words("LRANGE dst 0 -1");
            let (a, b) = (run(&mut p.theirs, &stored), run(&mut p.ours, &stored));
            assert_eq!(b, a, "round {round} step {step}: dst after {cmd:?}");
            let ty = words("TYPE dst");
            assert_eq!(run(&mut p.ours, &ty), run(&mut p.theirs, &ty));
            compared += 1;
        }
    }
    eprintln!("sort: {compared} commands compared, all identical");
}

#[test]
fn sort_errors_match_redis_server() {
    let mut p = Pair::start();
    let cases: &[&str] = &[
        "SORT",
        "SORT l LIMIT 1",
        "SORT l LIMIT x 1",
        "SORT l BOGUS",
        "SORT l BY",
        "SORT l GET",
        "SORT_RO l STORE dst",
        "SORT str",
        "SORT str BOGUS",
        "SORT words",
        "SORT words BY w_*",
        "SORT nums BY w_* DESC LIMIT 0 2 GET # GET w_* STORE dst",
        "SORT nums BY nosort BY w_*",
        "SORT nums BY w_* BY nosort DESC",
        "LRANGE dst 0 -1",
        "COMMAND GETKEYS SORT nums BY w_* STORE a LIMIT 0 1 STORE b",
        "COMMAND GETKEYS SORT_RO nums GET store",
    ];
    for c in [&mut p.theirs, &mut p.ours] {
        for setup in [
            "SET str x",
            "RPUSH words b a",
            "RPUSH nums 3 1 2",
            "SET w_1 9",
            "SET w_words 1",
        ] {
            run(c, &words(setup));
        }
    }
    for case in cases {
        let cmd = words(case);
        assert_eq!(run(&mut p.ours, &cmd), run(&mut p.theirs, &cmd), "{case}");
    }
}

#[test]
fn sort_patterns_need_access_to_every_key_as_in_redis() {
    let mut p = Pair::start();
    let cases: &[&str] = &[
        "SORT l",
        "SORT l BY w_*",
        "SORT l BY nosort",
        "SORT l GET #",
        "SORT l STORE lout",
        "SORT l STORE other",
    ];
    for c in [&mut p.theirs, &mut p.ours] {
        for setup in [
            "RPUSH l 2 1",
            "ACL SETUSER limited on >pw ~l* +@all",
            "AUTH limited pw",
        ] {
            run(c, &words(setup));
        }
    }
    for case in cases {
        let cmd = words(case);
        assert_eq!(run(&mut p.ours, &cmd), run(&mut p.theirs, &cmd), "{case}");
    }
}

/// The keyspace events each server sends for `commands`, in order.
fn events(url: &str, commands: &[&str]) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_connection().unwrap();
    run(&mut c, &words("CONFIG SET notify-keyspace-events KEA"));
    let mut listener = client.get_connection().unwrap();
    let mut pubsub = listener.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").unwrap();
    pubsub.subscribe("end").unwrap();
    for cmd in commands {
        run(&mut c, &words(cmd));
    }
    run(&mut c, &words("PUBLISH end end"));
    pubsub
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let msg = pubsub.get_message().unwrap();
        if msg.get_channel_name() == "end" {
            return seen;
        }
        let key: String = msg.get_payload().unwrap();
        seen.push(format!("{} {key}", msg.get_channel_name()));
    }
}

#[test]
fn sort_store_announces_as_redis_does() {
    let p = Pair::start();
    let commands = [
        "RPUSH src 3 1 2",
        "SORT src STORE dst",
        "SET str x",
        "SORT src STORE str",
        "SORT nothing STORE dst",
        "SORT_RO src",
    ];
    let theirs = events(&format!("redis://127.0.0.1:{}/", p.redis.port), &commands);
    let ours = events(&p.diskdb.url(), &commands);
    assert!(
        theirs.iter().any(|e| e.ends_with(":sortstore dst")),
        "{theirs:?}"
    );
    assert_eq!(ours, theirs);
}
