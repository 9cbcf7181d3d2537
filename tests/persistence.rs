//! Durability and startup checks: kill -9 with `sync always`, clean
//! shutdown, manifest and config errors.
mod common;
use common::{binary, free_port, Server};
use redis::Commands;
use std::process::Command;

#[test]
fn sync_always_survives_kill9() {
    let mut s = Server::start(2, &["--sync", "always"]);
    {
        let mut c = s.conn();
        for i in 0..300 {
            let _: () = c.set(format!("k{i}"), format!("v{i}")).unwrap();
            let _: i64 = c.incr("counter", 1).unwrap();
        }
        let mut p = redis::pipe();
        for i in 0..200 {
            p.cmd("SET").arg(format!("pipe{i}")).arg(i).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let _: () = redis::cmd("MSET")
            .arg("m1")
            .arg("a")
            .arg("m2")
            .arg("b")
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg("ttl")
            .arg("x")
            .arg("EX")
            .arg(1000)
            .query(&mut c)
            .unwrap();
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    for i in 0..300 {
        assert_eq!(
            c.get::<_, String>(format!("k{i}")).unwrap(),
            format!("v{i}")
        );
    }
    for i in 0..200 {
        assert_eq!(c.get::<_, i64>(format!("pipe{i}")).unwrap(), i);
    }
    assert_eq!(c.get::<_, i64>("counter").unwrap(), 300);
    assert_eq!(c.get::<_, String>("m2").unwrap(), "b");
    assert!(c.ttl::<_, i64>("ttl").unwrap() > 900);
    assert_eq!(
        redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(),
        300 + 1 + 200 + 2 + 1
    );
}

#[test]
fn clean_shutdown_keeps_data() {
    let mut s = Server::start(2, &[]);
    {
        let mut c = s.conn();
        for i in 0..100 {
            let _: () = c.set(format!("k{i}"), i).unwrap();
        }
        let _: () = redis::cmd("SET")
            .arg("short")
            .arg("x")
            .arg("PX")
            .arg(100)
            .query(&mut c)
            .unwrap();
    }
    assert_eq!(s.terminate(), Some(0), "SIGTERM exits cleanly");
    std::thread::sleep(std::time::Duration::from_millis(150));
    s.launch();
    let mut c = s.conn();
    assert_eq!(c.get::<_, i64>("k99").unwrap(), 99);
    assert_eq!(
        c.get::<_, Option<String>>("short").unwrap(),
        None,
        "expired during downtime"
    );
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 100);
}

#[test]
fn shard_count_mismatch_is_a_startup_error() {
    let mut s = Server::start(2, &[]);
    s.terminate();
    let out = Command::new(binary())
        .args(["--port", &free_port().to_string(), "--shards", "1", "--dir"])
        .arg(s.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("created with 2 shards") && err.contains("--shards 2"),
        "{err}"
    );
}

#[test]
fn invalid_config_names_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("diskdb.conf");
    std::fs::write(
        &conf,
        "server:\n  port: 7001\npersistence:\n  wal_enabled: true\n  compression: gzip\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .arg("--config")
        .arg(&conf)
        .arg("--dir")
        .arg(tmp.path().join("d"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("compression") && err.contains("line 5") && err.contains("diskdb.conf"),
        "{err}"
    );
    let out = Command::new(binary())
        .arg("--config")
        .arg(tmp.path().join("missing.conf"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
}

#[test]
fn config_file_is_read_and_flags_override_it() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("diskdb.conf");
    let port = free_port();
    std::fs::write(
        &conf,
        format!("server:\n  port: 1\n  maxclients: 77\nstorage:\n  dir: {}\npersistence:\n  sync: always\n  sync_interval: 250ms\n  compression: zstd\n  max_log_size: 64MB\n", tmp.path().join("d").display()),
    )
    .unwrap();
    let mut child = Command::new(binary())
        .arg("--config")
        .arg(&conf)
        .args(["--port", &port.to_string(), "--shards", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut con = None;
    for _ in 0..500 {
        if let Ok(c) = client.get_connection() {
            con = Some(c);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut c = con.expect("server from config file started");
    let get = |c: &mut redis::Connection, k: &str| -> String {
        let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(k).query(c).unwrap();
        v[1].clone()
    };
    assert_eq!(get(&mut c, "port"), port.to_string());
    assert_eq!(get(&mut c, "maxclients"), "77");
    assert_eq!(get(&mut c, "appendfsync"), "always");
    assert_eq!(get(&mut c, "sync-interval"), "250");
    assert_eq!(get(&mut c, "compression"), "zstd");
    assert_eq!(get(&mut c, "max-log-size"), (64u64 << 20).to_string());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn everysec_loses_nothing_on_process_crash() {
    // Under everysec the WAL is handed to the OS before each reply, so a
    // killed process (not a power loss) loses no acknowledged write.
    let mut s = Server::start(2, &[]);
    {
        let mut c = s.conn();
        let mut p = redis::pipe();
        for i in 0..2000 {
            p.cmd("SET").arg(format!("e{i}")).arg(i).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        for _ in 0..100 {
            let _: i64 = c.incr("ctr", 1).unwrap();
        }
    }
    s.kill9();
    s.launch();
    let mut c = s.conn();
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut c).unwrap(), 2001);
    assert_eq!(c.get::<_, i64>("e1999").unwrap(), 1999);
    assert_eq!(c.get::<_, i64>("ctr").unwrap(), 100);
}

#[test]
fn shutdown_command_stops_cleanly() {
    let mut s = Server::start(2, &[]);
    let mut c = s.conn();
    let _: () = c.set("before-shutdown", "yes").unwrap();
    let _ = redis::cmd("SHUTDOWN").query::<redis::Value>(&mut c);
    let mut child = s.child.take().unwrap();
    let mut code = None;
    for _ in 0..500 {
        if let Ok(Some(st)) = child.try_wait() {
            code = st.code();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(code, Some(0), "SHUTDOWN exits with status 0");
    s.launch();
    let mut c = s.conn();
    assert_eq!(c.get::<_, String>("before-shutdown").unwrap(), "yes");
}
