//! SAVE / BGSAVE / LASTSAVE: checkpoints of every shard that a server can
//! start from, their rotation, and failures that leave the server serving.
mod common;
use common::{info_field, q_err, query, Server};
use redis::Commands;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Waits until no BGSAVE runs.
fn wait_bgsave(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(c, "rdb_bgsave_in_progress").as_deref() != Some("0") {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn last_checkpoint(c: &mut redis::Connection) -> PathBuf {
    PathBuf::from(info_field(c, "last_checkpoint").expect("last_checkpoint in INFO"))
}

/// Complete checkpoints under the server's directory.
fn checkpoints(s: &Server) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(s.data_dir().join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn save_then_restore_has_exactly_the_saved_data() {
    let s = Server::start(2, &["--sync", "always"]);
    let mut c = s.conn();
    for i in 0..200 {
        let _: () = c.set(format!("k{i}"), format!("v{i}")).unwrap();
    }
    let _: () = c.hset_multiple("h", &[("a", "1"), ("b", "2")]).unwrap();
    let _: () = c.rpush("l", &["x", "y", "z"]).unwrap();
    assert_eq!(
        info_field(&mut c, "last_checkpoint").as_deref(),
        Some("none")
    );
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    let cp = last_checkpoint(&mut c);
    assert!(cp.starts_with(s.data_dir().join("checkpoints")), "{cp:?}");
    for part in ["shard-0", "shard-1", "DISKDB_MANIFEST"] {
        assert!(cp.join(part).exists(), "{part} in {cp:?}");
    }
    // changes after the save must not be in the checkpoint
    for i in 0..100 {
        let _: () = c.set(format!("later{i}"), i).unwrap();
    }
    let _: () = c.set("k0", "changed").unwrap();
    let _: () = c.del("k1").unwrap();
    let _: () = c.hset("h", "c", "3").unwrap();

    let restored = Server::open(&cp, 2, &[]);
    let mut r = restored.conn();
    assert_eq!(query::<i64>(&mut r, &["DBSIZE"]), 202);
    for i in 0..200 {
        assert_eq!(
            r.get::<_, String>(format!("k{i}")).unwrap(),
            format!("v{i}")
        );
    }
    assert_eq!(r.exists::<_, i64>("later0").unwrap(), 0);
    assert_eq!(r.hlen::<_, i64>("h").unwrap(), 2);
    assert_eq!(
        r.lrange::<_, Vec<String>>("l", 0, -1).unwrap(),
        vec!["x", "y", "z"]
    );
    // the live server is unaffected
    assert_eq!(c.get::<_, String>("k0").unwrap(), "changed");
}

#[test]
fn bgsave_lastsave_and_rotation() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let started: i64 = query(&mut c, &["LASTSAVE"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - started).abs() <= 30, "LASTSAVE is startup time");
    assert_eq!(
        info_field(&mut c, "rdb_last_save_time"),
        Some(started.to_string())
    );
    let _: () = c.set("a", "1").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    // a BGSAVE pipelined behind another normally finds it running
    let mut raw = common::Raw::connect(s.port);
    raw.send(b"BGSAVE\r\nBGSAVE\r\n");
    let mut got = Vec::new();
    while got.windows(2).filter(|w| w == b"\r\n").count() < 2 {
        let more = raw.read_until(b"\r\n");
        assert!(!more.is_empty(), "connection closed");
        got.extend(more);
    }
    let got = String::from_utf8_lossy(&got).into_owned();
    let (first, second) = got.split_once("\r\n").unwrap();
    assert_eq!(first, "+Background saving started");
    assert!(
        second == "-ERR Background save already in progress\r\n"
            || second == "+Background saving started\r\n",
        "{second:?}"
    );
    println!("second BGSAVE: {second:?}");
    wait_bgsave(&mut c);
    let after: i64 = query(&mut c, &["LASTSAVE"]);
    assert!(after > started, "LASTSAVE advanced: {started} -> {after}");
    assert_eq!(
        info_field(&mut c, "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        query::<String>(&mut c, &["BGSAVE", "SCHEDULE"]),
        "Background saving started"
    );
    wait_bgsave(&mut c);
    assert_eq!(q_err(&mut c, &["BGSAVE", "NOW"]), "ERR syntax error");
    // keep the newest two by default
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    let newest = last_checkpoint(&mut c);
    let kept = checkpoints(&s);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(
        kept.last().map(String::as_str),
        newest.file_name().and_then(|n| n.to_str())
    );
    assert_eq!(
        query::<Vec<String>>(&mut c, &["CONFIG", "GET", "checkpoint-keep"]),
        vec!["checkpoint-keep", "2"]
    );
    let _: () = query(&mut c, &["CONFIG", "SET", "checkpoint-keep", "1"]);
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    assert_eq!(checkpoints(&s).len(), 1);
    assert!(q_err(&mut c, &["CONFIG", "SET", "checkpoint-keep", "0"]).starts_with("ERR"));
}

#[test]
fn failed_save_is_an_error_and_the_server_keeps_serving() {
    let s = Server::start(2, &["--sync", "always"]);
    let mut c = s.conn();
    let _: () = c.set("before", "1").unwrap();
    // a file where the checkpoints directory should be: fails even as root
    let blocker = s.data_dir().join("checkpoints");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let e = q_err(&mut c, &["SAVE"]);
    assert!(e.starts_with("ERR ") && e.contains("checkpoints"), "{e}");
    assert_eq!(
        query::<String>(&mut c, &["BGSAVE"]),
        "Background saving started"
    );
    wait_bgsave(&mut c);
    assert_eq!(
        info_field(&mut c, "rdb_last_bgsave_status").as_deref(),
        Some("err")
    );
    assert_eq!(
        info_field(&mut c, "last_checkpoint").as_deref(),
        Some("none")
    );
    let _: () = c.set("after", "2").unwrap();
    assert_eq!(c.get::<_, String>("before").unwrap(), "1");
    // once the obstacle is gone, saving works again
    std::fs::remove_file(&blocker).unwrap();
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    assert_eq!(
        info_field(&mut c, "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
}

#[test]
fn save_without_wal_flushes_memtables_into_the_checkpoint() {
    let conf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(conf.path(), "persistence:\n  wal_enabled: false\n").unwrap();
    let conf_path = conf.path().to_str().unwrap();
    let s = Server::start(2, &["--config", conf_path]);
    let mut c = s.conn();
    assert_eq!(
        query::<Vec<String>>(&mut c, &["CONFIG", "GET", "appendonly"]),
        vec!["appendonly", "no"]
    );
    for i in 0..50 {
        let _: () = c.set(format!("k{i}"), i).unwrap();
    }
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    let cp = last_checkpoint(&mut c);
    let restored = Server::open(&cp, 2, &["--config", conf_path]);
    let mut r = restored.conn();
    assert_eq!(query::<i64>(&mut r, &["DBSIZE"]), 50);
}

/// A checkpoint taken while a client writes holds every write acknowledged
/// before SAVE was sent and a gap-free prefix of the later ones; a kill -9
/// during BGSAVE (finished or not) leaves the server startable and the
/// next save cleans up.
#[test]
fn checkpoint_under_load_and_kill9_during_bgsave() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let mut s = Server::start(2, &["--sync", "always"]);
    let (stop, acked) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let writer = {
        let (stop, acked, mut c) = (stop.clone(), acked.clone(), s.conn());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _: () = c.set(format!("{{w}}:{i}"), i).unwrap();
                i += 1;
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut c = s.conn();
    let before = acked.load(Ordering::SeqCst);
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let total = acked.load(Ordering::SeqCst);
    let cp = last_checkpoint(&mut c);
    {
        let restored = Server::open(&cp, 2, &[]);
        let mut r = restored.conn();
        let mut p = redis::pipe();
        for i in 0..total {
            p.cmd("EXISTS").arg(format!("{{w}}:{i}"));
        }
        let present: Vec<bool> = p.query(&mut r).unwrap();
        let kept = present.iter().take_while(|p| **p).count() as u64;
        assert!(
            present[kept as usize..].iter().all(|p| !p),
            "gap in checkpoint"
        );
        assert!(
            kept >= before,
            "checkpoint has {kept} writes, {before} acked before SAVE"
        );
        println!("checkpoint under load: {before} acked before SAVE, {kept} in it, {total} in all");
    }
    assert_eq!(
        query::<String>(&mut c, &["BGSAVE"]),
        "Background saving started"
    );
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), total as i64);
    assert_eq!(query::<String>(&mut c, &["SAVE"]), "OK");
    let left = checkpoints(&s);
    assert!(
        left.len() <= 2 && left.iter().all(|n| n.parse::<u64>().is_ok()),
        "{left:?}"
    );
}
