//! Observability and admin commands: INFO sections, SLOWLOG, LATENCY,
//! MONITOR, CLIENT PAUSE/REPLY/NO-EVICT, MEMORY USAGE, DEBUG, redis-cli
//! --stat / --latency, RocksDB thread placement, the open-files limit.
mod common;
use common::{binary, bulk, free_port, q_err, Raw, Server};
use redis::Commands;
use std::time::{Duration, Instant};

fn info(c: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).unwrap()
}

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("INFO lacks {name}:\n{info}"))
        .trim()
        .to_string()
}

#[test]
fn info_sections_are_redis_shaped() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    for i in 0..20 {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    let _ = q_err(&mut c, &["INCR", "k1", "extra"]);
    let _ = redis::cmd("NOSUCH").query::<redis::Value>(&mut c);
    let stats = info(&mut c, "commandstats");
    assert!(stats.contains("# Commandstats"), "{stats}");
    let set_line = field(&stats, "cmdstat_set");
    assert!(set_line.starts_with("calls=20,usec="), "{set_line}");
    assert!(
        set_line.contains("usec_per_call=")
            && set_line.ends_with("rejected_calls=0,failed_calls=0"),
        "{set_line}"
    );
    assert!(
        field(&stats, "cmdstat_incr").contains("rejected_calls=1"),
        "{stats}"
    );
    let errors = info(&mut c, "errorstats");
    assert_eq!(field(&errors, "errorstat_ERR"), "count=2");
    let all = info(&mut c, "everything");
    for needle in [
        "# CPU",
        "used_cpu_user:",
        "# RocksDB",
        "rocksdb_shard0:",
        "rocksdb_shard1:",
        "instantaneous_ops_per_sec:",
        "total_error_replies:2",
        "hot_cache_used:",
        "db0:keys=20,expires=0",
    ] {
        assert!(all.contains(needle), "INFO everything lacks {needle}");
    }
    let default = info(&mut c, "");
    assert!(
        !default.contains("# Commandstats"),
        "commandstats is not a default section"
    );
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    assert!(!info(&mut c, "commandstats").contains("cmdstat_set"));
}

/// Logs commands from `usec` on (-1: none) in an emptied slow log.
fn slowlog_from(c: &mut redis::Connection, usec: i64) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(usec)
        .query(c)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(c).unwrap();
}

#[test]
fn slowlog_durations_are_in_microseconds() {
    let s = Server::start(1, &["--enable-debug-command", "yes"]);
    let mut c = s.conn();
    slowlog_from(&mut c, 50_000);
    let _: () = c.set("quick", "1").unwrap();
    let _: () = redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.2")
        .query(&mut c)
        .unwrap();
    let entries: Vec<(i64, i64, i64, Vec<String>, String, String)> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    // only the 200 ms sleep passes 50 ms, measured as 200,000 µs and more
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].3, ["DEBUG", "SLEEP", "0.2"]);
    let usec = entries[0].2;
    assert!((200_000..5_000_000).contains(&usec), "{usec} µs");
    let stats = info(&mut c, "commandstats");
    let line = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_debug:"))
        .unwrap_or_else(|| panic!("{stats}"));
    let usec: i64 = line
        .split(['=', ','])
        .nth(3)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((200_000..5_000_000).contains(&usec), "{line}");
}

#[test]
fn slowlog_collects_from_every_shard() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    slowlog_from(&mut c, 0);
    let _: () = c.set("foo", "1").unwrap(); // shard 0
    let _: () = c.set("bar", "2").unwrap(); // shard 1
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert!(len >= 2, "{len}");
    let entries: Vec<(i64, i64, i64, Vec<String>, String, String)> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    let cmds: Vec<&Vec<String>> = entries.iter().map(|e| &e.3).collect();
    assert!(
        cmds.contains(&&vec!["SET".to_string(), "foo".into(), "1".into()]),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&&vec!["SET".to_string(), "bar".into(), "2".into()]),
        "{cmds:?}"
    );
    assert!(entries.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    let one: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert_eq!(one.len(), 1);
    slowlog_from(&mut c, -1);
    let _: () = c.set("foo", "3").unwrap();
    assert_eq!(
        redis::cmd("SLOWLOG")
            .arg("LEN")
            .query::<i64>(&mut c)
            .unwrap(),
        0
    );
}

#[test]
fn latency_monitor_and_debug() {
    let plain = Server::start(1, &[]);
    let mut p = plain.conn();
    assert!(q_err(&mut p, &["DEBUG", "SLEEP", "0"]).starts_with("ERR DEBUG command not allowed"));
    let s = Server::start(2, &["--enable-debug-command", "yes"]);
    let mut c = s.conn();
    let doctor: String = redis::cmd("LATENCY").arg("DOCTOR").query(&mut c).unwrap();
    assert!(doctor.contains("disabled"), "{doctor}");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("latency-monitor-threshold")
        .arg(10)
        .query(&mut c)
        .unwrap();
    let started = Instant::now();
    let _: () = redis::cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.05")
        .query(&mut c)
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    let latest: Vec<(String, i64, i64, i64)> =
        redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest[0].0, "command");
    assert!(latest[0].2 >= 50 && latest[0].3 >= 50, "{latest:?}");
    let history: Vec<(i64, i64)> = redis::cmd("LATENCY")
        .arg("HISTORY")
        .arg("command")
        .query(&mut c)
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        redis::cmd("LATENCY")
            .arg("RESET")
            .query::<i64>(&mut c)
            .unwrap(),
        1
    );
    let latest: Vec<redis::Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
    assert!(latest.is_empty());
    let _: () = c.set("obj", "12345").unwrap();
    let obj: String = redis::cmd("DEBUG")
        .arg("OBJECT")
        .arg("obj")
        .query(&mut c)
        .unwrap();
    assert!(obj.contains("encoding:int"), "{obj}");
}

#[test]
fn monitor_sees_commands_from_every_core() {
    let s = Server::start(2, &[]);
    let shard_of = |info: &str| common::client_field(info, "shard").unwrap().to_string();
    let mut mon = Raw::connect(s.port);
    mon.send(b"CLIENT INFO\r\n");
    let mon_info = String::from_utf8_lossy(&mon.read_until(b"\n\r\n")).into_owned();
    let mon_shard = shard_of(&mon_info);
    mon.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    // open connections until one is accepted on the other core
    let mut other = None;
    for _ in 0..64 {
        let mut c = s.conn();
        let ci: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        if shard_of(&ci) != mon_shard {
            other = Some(c);
            break;
        }
    }
    let mut c = other.expect("the kernel spread 64 connections over one core only");
    let _: () = c.set("mon-key", "v\n1").unwrap();
    let want = "\"SET\" \"mon-key\" \"v\\n1\"";
    let mut seen = String::new();
    for _ in 0..200 {
        seen.push_str(&String::from_utf8_lossy(&mon.read_until(b"\r\n")));
        if seen.contains(want) {
            break;
        }
    }
    assert!(seen.contains(want), "{seen}");
    assert!(seen.contains(" [0 127.0.0.1:"), "{seen}");
    mon.send(b"QUIT\r\n");
}

#[test]
fn client_pause_reply_and_no_evict() {
    let s = Server::start(2, &[]);
    let mut admin = s.conn();
    let mut c = s.conn();
    let _: () = c.set("p", 1).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(400)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    let t = Instant::now();
    let _: Option<String> = c.get("p").unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "reads are not paused by PAUSE WRITE"
    );
    let t = Instant::now();
    let _: () = c.set("p", 2).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "writes wait for the pause"
    );
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(10_000)
        .query(&mut admin)
        .unwrap();
    // a client already waiting is released by UNPAUSE, not by the timeout
    let port = s.port;
    let waiting = std::thread::spawn(move || {
        let mut w = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let t = Instant::now();
        let _: Option<String> = w.get("p").unwrap();
        t.elapsed()
    });
    std::thread::sleep(Duration::from_millis(300));
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query(&mut admin)
        .unwrap();
    let t = Instant::now();
    let _: Option<String> = c.get("p").unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "UNPAUSE releases clients"
    );
    let waited = waiting.join().unwrap();
    assert!(
        waited < Duration::from_secs(3),
        "a paused client waited {waited:?} after UNPAUSE"
    );
    assert_eq!(
        q_err(&mut admin, &["CLIENT", "PAUSE", "abc"]),
        "ERR timeout is not an integer or out of range"
    );
    let _: () = redis::cmd("CLIENT")
        .arg("NO-EVICT")
        .arg("on")
        .query(&mut admin)
        .unwrap();
    let mut raw = Raw::connect(s.port);
    raw.send(b"CLIENT REPLY OFF\r\nSET r1 1\r\nGET r1\r\nCLIENT REPLY ON\r\n");
    raw.roundtrip(b"", b"+OK\r\n");
    raw.roundtrip(b"CLIENT REPLY SKIP\r\nGET r1\r\nGET r1\r\n", b"$1\r\n1\r\n");
    // ON right after SKIP ends the skip and is answered, as by redis-server
    raw.roundtrip(
        b"CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n",
        b"+OK\r\n+PONG\r\n",
    );
    // SKIP while OFF does nothing
    raw.send(b"CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nGET r1\r\nCLIENT REPLY ON\r\n");
    raw.roundtrip(b"GET r1\r\n", b"+OK\r\n$1\r\n1\r\n");
}

#[test]
fn memory_usage_estimates() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let _: () = c.set("small", "x").unwrap();
    let _: () = c.set("large", "x".repeat(10_000)).unwrap();
    let small: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("small")
        .query(&mut c)
        .unwrap();
    let large: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("large")
        .query(&mut c)
        .unwrap();
    assert!(large > 10_000 && small < large, "{small} {large}");
    for i in 0..100 {
        let _: () = c.hset("h", format!("field{i}"), "value").unwrap();
    }
    let h: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("h")
        .arg("SAMPLES")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert!(h > 100 * 10, "{h}");
    assert_eq!(
        redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("missing")
            .query::<Option<i64>>(&mut c)
            .unwrap(),
        None
    );
}

#[test]
fn command_docs_cover_every_command() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    let docs: redis::Value = redis::cmd("COMMAND").arg("DOCS").query(&mut c).unwrap();
    let n = match docs {
        redis::Value::Map(m) => m.len() as i64,
        redis::Value::Array(a) => a.len() as i64 / 2,
        other => panic!("{other:?}"),
    };
    assert_eq!(n, count);
}

#[test]
fn redis_cli_stat_latency_and_info() {
    let s = Server::start(2, &[]);
    let port = s.port.to_string();
    let run = |args: &[&str]| -> String {
        let out = std::process::Command::new("timeout")
            .args(["3", "stdbuf", "-oL", "redis-cli"])
            .args(["-p", &port])
            .args(args)
            .output()
            .expect("redis-cli (scripts/setup.sh installs redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stat = run(&["--stat", "-i", "0.5"]);
    assert!(
        stat.contains("keys") && stat.contains("clients") && stat.contains("requests"),
        "{stat}"
    );
    let lat = run(&["--latency", "--raw"]);
    let nums: Vec<f64> = lat
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(nums.len() >= 4, "redis-cli --latency printed {lat:?}");
    let info = run(&["info"]);
    assert!(
        info.contains("redis_version:7.0.15") && info.contains("# Keyspace"),
        "{info}"
    );
}

/// RocksDB's flush and compaction threads are started from the unpinned
/// main thread: one compaction thread per shard, none confined to the core
/// of the shard that happened to open its database first (the shards are
/// pinned here, so a thread started from one would show its CPU).
#[test]
fn rocksdb_background_threads_are_not_pinned_to_a_shard() {
    let s = Server::start(2, &["--pin-shards", "yes"]);
    let pid = s.child.as_ref().expect("server running").id();
    let allowed = cpus_allowed;
    let process = allowed(std::path::Path::new(&format!("/proc/{pid}")));
    let mut compaction_threads = 0;
    let mut flush_threads = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        let name = name.trim();
        if !name.starts_with("rocksdb:") {
            continue;
        }
        assert_eq!(allowed(&task), process, "{name} runs on the process's CPUs");
        match name {
            "rocksdb:low" => compaction_threads += 1,
            "rocksdb:high" => flush_threads += 1,
            _ => {}
        }
    }
    assert_eq!(compaction_threads, 2, "one compaction thread per shard");
    assert!(flush_threads >= 1);
}

/// `--pin-shards`: by default the shard executors may run on any of the
/// process's CPUs (the kernel moves a woken shard off a busy CPU); with
/// `yes`, or with `--idle-spin`, shard *i* runs on the *i*-th CPU alone.
#[test]
fn shards_run_unpinned_unless_asked() {
    let shards = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    for (args, pinned) in [
        (vec![], false),
        (vec!["--pin-shards", "yes"], true),
        (vec!["--idle-spin", "50us"], true),
        (vec!["--idle-spin", "50us", "--pin-shards", "no"], false),
    ] {
        let s = Server::start(shards, &args);
        let mut c = s.conn();
        assert_yes_no(&mut c, "pin-shards", pinned, &args);
        let pid = s.child.as_ref().expect("server running").id();
        let process = cpus_allowed(&std::path::PathBuf::from(format!("/proc/{pid}")));
        let executors = shard_executors(pid);
        // names "shard-<id>-<n>" sort by shard id (at most 2 shards)
        let shard_cpus: Vec<String> = executors.values().map(|t| cpus_allowed(t)).collect();
        assert_eq!(shard_cpus.len(), shards, "shard threads: {executors:?}");
        if pinned {
            // shard i on the i-th CPU the process may use
            let first: Vec<String> = cpu_list(&process)
                .iter()
                .take(shards)
                .map(|c| c.to_string())
                .collect();
            assert_eq!(
                shard_cpus, first,
                "{args:?}: the process's CPUs are {process}"
            );
        } else {
            if cpu_list(&process).len() < 2 {
                continue; // one CPU: pinned and unpinned look alike
            }
            assert!(
                shard_cpus.iter().all(|c| *c == process),
                "{args:?}: {shard_cpus:?} against the process's {process}"
            );
        }
    }
}

/// `--batch-scheduling yes` runs each shard's executor thread under
/// SCHED_BATCH; by default they run under the normal policy.
#[test]
fn shard_threads_run_under_sched_batch_when_asked() {
    for (args, batch) in [(vec![], false), (vec!["--batch-scheduling", "yes"], true)] {
        let s = Server::start(2, &args);
        let mut c = s.conn();
        assert_yes_no(&mut c, "batch-scheduling", batch, &args);
        let pid = s.child.as_ref().expect("server running").id();
        let executors = shard_executors(pid);
        assert_eq!(executors.len(), 2, "shard threads: {executors:?}");
        for (name, task) in &executors {
            // /proc/<tid>/stat: the 41st field is the policy (3: SCHED_BATCH),
            // counted after the parenthesised command name
            let stat = std::fs::read_to_string(task.join("stat")).unwrap();
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            let policy: u32 = after_name.split(' ').nth(41 - 3).unwrap().parse().unwrap();
            assert_eq!(policy, if batch { 3 } else { 0 }, "{name} with {args:?}");
        }
        // still serving
        assert_eq!(common::q(&mut c, &["SET", "k", "v"]), redis::Value::Okay);
    }
}

/// Each shard's executor thread by name ("shard-<id>-<n>", sorting by
/// shard id for up to 10 shards): the first thread of its name, since
/// glommio's helper threads take the name too.
fn shard_executors(pid: u32) -> std::collections::BTreeMap<String, std::path::PathBuf> {
    let mut first = std::collections::BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        let tid: u32 = task.file_name().unwrap().to_str().unwrap().parse().unwrap();
        if name.starts_with("shard-") {
            let seen = first.entry(name).or_insert((tid, task.clone()));
            if tid < seen.0 {
                *seen = (tid, task);
            }
        }
    }
    first
        .into_iter()
        .map(|(name, (_, task))| (name, task))
        .collect()
}

/// CONFIG GET of a yes/no parameter replies `value`.
fn assert_yes_no(c: &mut redis::Connection, name: &str, value: bool, args: &[&str]) {
    assert_eq!(
        common::q(c, &["CONFIG", "GET", name]),
        redis::Value::Array(vec![
            redis::Value::BulkString(name.as_bytes().to_vec()),
            redis::Value::BulkString(if value { "yes" } else { "no" }.into()),
        ]),
        "{args:?}"
    );
}

/// The CPUs of a `Cpus_allowed_list` ("0-3,6"), in order.
fn cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        cpus.extend(from.parse::<usize>().unwrap()..=to.parse::<usize>().unwrap());
    }
    cpus
}

/// A task's `Cpus_allowed_list` from its /proc status file.
fn cpus_allowed(task: &std::path::Path) -> String {
    let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The nice value in a /proc `stat` file (field 19; fields count from
/// the one after "(comm)", the state, as field 3).
fn nice_of(stat_path: &std::path::Path) -> Option<i64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(16)?.parse().ok()
}

/// Nice values of the server's RocksDB threads, by thread name.
fn rocksdb_thread_nice(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if let (true, Some(nice)) = (name.starts_with("rocksdb:"), nice_of(&task.join("stat"))) {
            out.push((name.trim().to_string(), nice));
        }
    }
    out
}

/// Compactions run at nice 19 (they take what the shards leave), flushes
/// at the server's own priority; `--low-priority-compaction no` keeps both
/// there.
/// RocksDB lowers a thread's priority when it picks up its first job, so
/// the test writes enough through 1 MB memtables to cause compactions.
#[test]
fn compactions_run_at_low_cpu_priority() {
    for (flag, want_low) in [("yes", true), ("no", false)] {
        let s = Server::start(
            2,
            &[
                "--write-buffer-size",
                "1MB",
                "--low-priority-compaction",
                flag,
            ],
        );
        let mut c = s.conn();
        let pid = s.child.as_ref().unwrap().id();
        let base = nice_of(std::path::Path::new(&format!("/proc/{pid}/stat"))).unwrap();
        let value = "v".repeat(4096);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut round = 0;
        let niced = loop {
            common::set_all(&mut c, (0..500).map(|i| format!("k{round}:{i}")), &value);
            round += 1;
            let threads = rocksdb_thread_nice(pid);
            for (name, nice) in &threads {
                let allowed = if name == "rocksdb:low" && want_low {
                    19
                } else {
                    base
                };
                assert!(
                    *nice == base || *nice == allowed,
                    "{name} at nice {nice} (server at {base}), flag {flag}"
                );
            }
            let niced = threads.iter().any(|(n, v)| n == "rocksdb:low" && *v == 19);
            if niced || (!want_low && round >= 20) || std::time::Instant::now() > deadline {
                break niced;
            }
        };
        assert_eq!(
            niced, want_low,
            "flag {flag}: a compaction thread at nice 19 after {round} rounds"
        );
        assert_eq!(
            common::q(&mut c, &["CONFIG", "GET", "low-priority-compaction"]),
            redis::Value::Array(vec![
                redis::Value::BulkString(b"low-priority-compaction".to_vec()),
                redis::Value::BulkString(flag.as_bytes().to_vec()),
            ])
        );
    }
}

/// CPU time (user + system, in clock ticks) the server's shard threads
/// have used so far.
fn shard_cpu_ticks(pid: u32) -> u64 {
    let mut ticks = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if !name.starts_with("shard-") {
            continue;
        }
        let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        ticks += f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    }
    ticks
}

/// `--idle-spin`: a shard with nothing to do polls for that long (none by
/// default), then sleeps. Up to the longest spin accepted (1ms) an idle
/// server uses almost no CPU, the setting shows in CONFIG GET, and a bad
/// or too long value stops startup naming it.
#[test]
fn idle_shards_sleep_after_their_spin() {
    for (flag, shown) in [
        (None, "0us"),
        (Some("50us"), "50us"),
        (Some("1ms"), "1000us"),
    ] {
        let args: Vec<&str> = flag.map_or(vec![], |f| vec!["--idle-spin", f]);
        let s = Server::start(2, &args);
        let mut c = s.conn();
        assert_eq!(
            common::q(&mut c, &["CONFIG", "GET", "idle-spin"]),
            redis::Value::Array(vec![
                redis::Value::BulkString(b"idle-spin".to_vec()),
                redis::Value::BulkString(shown.as_bytes().to_vec()),
            ])
        );
        common::set_all(&mut c, (0..2000).map(|i| format!("k{i}")), "v");
        let pid = s.child.as_ref().unwrap().id();
        std::thread::sleep(Duration::from_millis(300));
        let before = shard_cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(2));
        let used = shard_cpu_ticks(pid) - before;
        // Two shards spinning without end would use 2 s each (200+ ticks).
        assert!(
            used < 40,
            "idle shards used {used} ticks in 2 s with --idle-spin {flag:?}"
        );
    }
    for (value, says) in [("5 parsecs", "5 parsecs"), ("2ms", "at most 1000us")] {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(common::binary())
            .args(["--port", "0", "--idle-spin", value, "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("idle-spin") && err.contains(says), "{err}");
    }
}

/// CLIENT LIST's idle time counts from the client's last interaction, as
/// in redis-server: input that arrives while a command blocks, and the
/// blocked command's reply, count too.
#[test]
fn client_idle_time_counts_input_read_while_blocked() {
    let s = Server::start(2, &[]);
    let mut raw = common::Raw::connect(s.port);
    raw.send(&common::reference::resp(&["CLIENT", "SETNAME", "blocked"]));
    assert_eq!(raw.read_until(b"+OK\r\n"), b"+OK\r\n");
    raw.send(&common::reference::resp(&["BLPOP", "idle-list", "0"]));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    raw.send(&common::reference::resp(&["PING"])); // read while blocked
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let mut c = s.conn();
    let _: i64 = common::query(&mut c, &["RPUSH", "idle-list", "x"]);
    raw.read_until(b"+PONG\r\n");
    let list: String = common::query(&mut c, &["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains("name=blocked"))
        .unwrap_or_else(|| panic!("no blocked client in {list}"));
    let idle: u64 = common::client_field(line, "idle").unwrap().parse().unwrap();
    assert!(
        idle <= 1,
        "idle={idle} after input 2.5 s ago and a reply now: {line}"
    );
}

/// Starts the server under `ulimit` settings (a shell command) and
/// returns its soft open-files limit and what it logged, once it answers.
fn open_files_limit_under(ulimit: &str, maxclients: &str) -> (u64, String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("log");
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{ulimit} && exec \"$0\" \"$@\" 2>{}",
            log.display()
        ))
        .arg(binary())
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir.path().join("data"))
        .args(["--shards", "1", "--maxclients", maxclients])
        .spawn()
        .unwrap();
    let mut c = None;
    for _ in 0..300 {
        if let Ok(conn) = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
        {
            c = Some(conn);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut c = c.expect("server answers");
    assert_eq!(bulk(&mut c, &["ECHO", "up"]).as_deref(), Some("up"));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    (soft, std::fs::read_to_string(&log).unwrap_or_default())
}

/// Like redis-server, the server raises its soft open-files limit for
/// maxclients connections (each may hold a second descriptor for replies
/// other cores write), and warns when the hard limit does not allow one
/// descriptor per client.
#[test]
fn the_open_files_limit_is_raised_for_maxclients() {
    let (soft, log) = open_files_limit_under("ulimit -Sn 256 && ulimit -Hn 5000", "1000");
    assert_eq!(soft, 3024, "2 x maxclients + 1024, within the hard limit");
    assert!(!log.contains("open files limit"), "{log}");
    let (soft, log) = open_files_limit_under("ulimit -Sn 256 && ulimit -Hn 600", "1000");
    assert_eq!(soft, 600, "up to the hard limit");
    assert!(
        log.contains("open files limit is 600, below the 1032 that maxclients 1000 needs"),
        "{log}"
    );
}

/// A key of `prefix` followed by a number, owned by `shard` of 2.
fn key_on(prefix: &str, shard: usize) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| diskdb::shard::routing::shard_of(k.as_bytes(), 2) == shard)
        .unwrap()
}

/// Shard `i`'s share of the hot-cache budget (INFO memory).
fn hot_share(c: &mut redis::Connection, i: usize) -> u64 {
    let line = field(&info(c, "memory"), &format!("shard{i}_memory"));
    line.split(',')
        .find_map(|kv| kv.strip_prefix("hot_cache_share="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

/// Fills hash `key` with `n` fields `f0..` of 1,000 bytes each.
fn fill_hash(c: &mut redis::Connection, key: &str, fields: std::ops::Range<usize>) -> i64 {
    let value = "v".repeat(1000);
    let mut added = 0;
    let fields: Vec<usize> = fields.collect();
    for chunk in fields.chunks(100) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key);
        for f in chunk {
            cmd.arg(format!("f{f}")).arg(&value);
        }
        added += cmd.query::<i64>(c).unwrap();
    }
    added
}

/// Polls `ok` for up to ten seconds.
fn eventually(mut ok: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn the_hot_cache_budget_moves_to_the_shard_that_needs_it() {
    const BUDGET: u64 = 8 << 20;
    let s = Server::start(2, &["--hot-cache-size", "8MB"]);
    let mut c = s.conn();
    assert_eq!(hot_share(&mut c, 0), BUDGET / 2);
    // about 8 MB of fields on shard 0, twice its even share
    let (big0, big1) = (key_on("big", 0), key_on("big", 1));
    assert_eq!(fill_hash(&mut c, &big0, 0..6000), 6000);
    assert!(
        eventually(|| hot_share(&mut c, 0) > BUDGET * 5 / 8),
        "shard 0's share stayed at {}",
        hot_share(&mut c, 0)
    );
    let peak = hot_share(&mut c, 0);
    assert!(peak + hot_share(&mut c, 1) <= BUDGET);
    // a hash created on shard 0 before it shrinks
    let small0 = key_on("small", 0);
    assert_eq!(fill_hash(&mut c, &small0, 0..1000), 1000);
    // shard 1 now needs room too: shard 0 gives some back, evicting
    assert_eq!(fill_hash(&mut c, &big1, 0..6000), 6000);
    assert!(
        eventually(|| hot_share(&mut c, 0) < peak),
        "shard 0 kept {peak}"
    );
    assert!(hot_share(&mut c, 0) >= BUDGET / 4, "below the floor");
    assert!(hot_share(&mut c, 0) + hot_share(&mut c, 1) <= BUDGET);
    // counts stay exact after the shrink
    assert_eq!(fill_hash(&mut c, &small0, 500..1500), 500);
    assert_eq!(common::int(&mut c, &["HLEN", &small0]), 1500);
    assert_eq!(fill_hash(&mut c, &big0, 5900..6100), 100);
    assert_eq!(common::int(&mut c, &["HLEN", &big0]), 6100);
    let v: String = common::query(&mut c, &["HGET", &big0, "f17"]);
    assert_eq!(v, "v".repeat(1000));
}
