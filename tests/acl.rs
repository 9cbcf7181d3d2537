//! ACL users against the real server: ACL SETUSER/GETUSER/LIST/USERS/
//! WHOAMI/CAT/DELUSER, AUTH and HELLO AUTH as a user, NOPERM for commands,
//! categories, keys and channels (also inside MULTI), disabled users and
//! WRONGPASS, all byte for byte as redis-server's; the aclfile at startup
//! and ACL SAVE/LOAD; passwords only ever shown as SHA-256.

mod common;
use common::reference::{mask_client_id, session, start_redis, start_redis_with};
use common::*;

/// Runs each script on a fresh connection to both servers, in order, and
/// asserts identical reply bytes.
fn same_sessions(redis_port: u16, diskdb_port: u16, scripts: &[&[&[&str]]]) {
    for (i, script) in scripts.iter().enumerate() {
        let want = mask_client_id(&session(redis_port, script));
        let got = mask_client_id(&session(diskdb_port, script));
        assert_eq!(got, want, "script {i} differs from redis-server");
    }
}

const P1_SHA256: &str = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a";

#[test]
fn acl_management_matches_redis_server() {
    let redis = start_redis();
    let diskdb = Server::start(2, &[]);
    let scripts: &[&[&[&str]]] = &[
        &[
            &[
                "ACL", "SETUSER", "alice", "on", ">p1", "~app:*", "+@read", "&ch*",
            ],
            &["ACL", "GETUSER", "alice"],
            &["ACL", "SETUSER", "bob"],
            &["ACL", "GETUSER", "bob"],
            &[
                "ACL",
                "SETUSER",
                "carol",
                "on",
                ">pw",
                "allkeys",
                "allchannels",
                "+@all",
                "-@admin",
            ],
            &["ACL", "GETUSER", "carol"],
            &[
                "ACL", "SETUSER", "dave", "on", "nopass", "~k*", "~j*", "-@all", "+get",
            ],
            &["ACL", "GETUSER", "dave"],
            &["ACL", "SETUSER", "dave", ">a", ">b", "<a", "resetkeys"],
            &["ACL", "GETUSER", "dave"],
            &["ACL", "SETUSER", "dave", "reset"],
            &["ACL", "GETUSER", "dave"],
            &["ACL", "GETUSER", "default"],
            &["ACL", "LIST"],
            &["ACL", "USERS"],
            &["ACL", "WHOAMI"],
            &["ACL", "GETUSER", "nobody"],
            &["ACL", "DRYRUN", "alice", "get", "app:1"],
            &["ACL", "DRYRUN", "alice", "get", "other"],
            &["ACL", "DRYRUN", "alice", "set", "app:1", "x"],
            &["ACL", "DRYRUN", "alice", "publish", "zz", "m"],
            &["ACL", "DRYRUN", "nobody", "get", "x"],
            &["ACL", "DRYRUN", "alice", "nosuch"],
            &["ACL", "DRYRUN", "alice", "get"],
            &["ACL", "HELP"],
        ],
        &[
            &["ACL", "SETUSER", "x", "bogus"],
            &["ACL", "SETUSER", "x", "+nosuch"],
            &["ACL", "SETUSER", "x", "+@nosuch"],
            &["ACL", "SETUSER", "a b"],
            &["ACL", "SETUSER", "x", "#abc"],
            &["ACL", "SETUSER", "x", "<never"],
            &["ACL", "SETUSER", "x", "~*", "~more"],
            &["ACL", "USERS"],
            &["ACL", "DELUSER", "default"],
            &["ACL", "DELUSER", "bob", "nobody"],
            &["ACL", "USERS"],
            &["ACL", "CAT", "nosuch"],
            &["ACL", "GENPASS", "0"],
            &["ACL", "GENPASS", "4097"],
            &["ACL", "LOAD"],
            &["ACL", "SAVE"],
            &["ACL", "NOSUCH"],
            &["ACL", "GETUSER"],
            &["ACL", "LOG", "x"],
        ],
    ];
    same_sessions(redis.port, diskdb.port, scripts);
    // passwords appear only hashed
    let mut c = diskdb.conn();
    let list: Vec<String> = query(&mut c, &["ACL", "LIST"]);
    assert!(list.iter().any(|l| l.contains(P1_SHA256)), "{list:?}");
    assert!(!list.iter().any(|l| l.contains("p1 ") || l.contains(">")));
    let pass: String = query(&mut c, &["ACL", "GENPASS"]);
    assert_eq!(pass.len(), 64);
    let pass: String = query(&mut c, &["ACL", "GENPASS", "5"]);
    assert_eq!(pass.len(), 2);
}

#[test]
fn acl_cat_lists_redis_categories() {
    let redis = start_redis();
    let diskdb = Server::start(2, &[]);
    let mut theirs = redis.conn();
    let mut ours = diskdb.conn();
    let want: Vec<String> = query(&mut theirs, &["ACL", "CAT"]);
    let mut got: Vec<String> = query(&mut ours, &["ACL", "CAT"]);
    // the JSON commands have their own category, as RedisJSON's
    assert_eq!(got.pop().as_deref(), Some("json"));
    assert_eq!(got, want);
    // each command of a category is one redis-server puts there too
    for cat in ["read", "write", "dangerous", "keyspace", "fast"] {
        let theirs_cmds: Vec<String> = query(&mut theirs, &["ACL", "CAT", cat]);
        let ours_cmds: Vec<String> = query(&mut ours, &["ACL", "CAT", cat]);
        assert!(!ours_cmds.is_empty());
        for c in &ours_cmds {
            assert!(
                theirs_cmds.contains(c)
                    || c.starts_with("json.")
                    || theirs_cmds.iter().any(|t| t.starts_with(&format!("{c}|"))),
                "{c} is @{cat} here but not in redis-server"
            );
        }
    }
}

#[test]
fn permissions_match_redis_server() {
    let redis = start_redis();
    let diskdb = Server::start(2, &[]);
    let scripts: &[&[&[&str]]] = &[
        &[
            &["SET", "app:1", "v"],
            &[
                "ACL", "SETUSER", "alice", "on", ">p1", "~app:*", "+@read", "&ch*",
            ],
            &[
                "ACL",
                "SETUSER",
                "carol",
                "on",
                ">pw",
                "~app:*",
                "&ch*",
                "+@all",
                "-@dangerous",
            ],
            &["ACL", "SETUSER", "dis", "off", ">x", "+@all", "~*"],
        ],
        // a read-only user limited to app:*
        &[
            &["AUTH", "alice", "p1"],
            &["GET", "app:1"],
            &["GET", "other"],
            &["SET", "app:1", "x"],
            &["MGET", "app:1", "other"],
            &["EXISTS", "app:1", "app:2"],
            &["KEYS", "*"],
            &["FLUSHALL"],
            &["PUBLISH", "chx", "m"],
            &["MULTI"],
            &["EXEC"],
            &["CONFIG", "GET", "port"],
            &["ACL", "WHOAMI"],
            &["AUTH", "alice", "bad"],
            &["GET", "app:1"],
        ],
        // everything but @dangerous, inside and outside MULTI
        &[
            &["HELLO", "2", "AUTH", "carol", "pw"],
            &["MULTI"],
            &["SET", "app:1", "x"],
            &["GET", "other"],
            &["FLUSHALL"],
            &["EXEC"],
            &["MULTI"],
            &["SET", "app:1", "y"],
            &["INCR", "app:n"],
            &["EXEC"],
            &["GET", "app:1"],
            &["MSET", "app:2", "a", "b", "c"],
            &["PUBLISH", "chx", "m"],
            &["PUBLISH", "zz", "m"],
            &["SUBSCRIBE", "ch1", "zz"],
            &["PSUBSCRIBE", "c*"],
        ],
        // disabled users and wrong passwords
        &[
            &["AUTH", "dis", "x"],
            &["AUTH", "nobody", "x"],
            &["AUTH", "carol", "wrong"],
            &["HELLO", "2", "AUTH", "dis", "x"],
            &["ACL", "WHOAMI"],
            &["AUTH", "carol", "pw"],
            &["ACL", "WHOAMI"],
            &["RESET"],
            &["ACL", "WHOAMI"],
            &["AUTH", "carol", "pw"],
            &["AUTH", "default", "anything"],
            &["ACL", "WHOAMI"],
        ],
        // requirepass is the default user's password
        &[
            &["CONFIG", "SET", "requirepass", "s3cret"],
            &["ACL", "GETUSER", "default"],
            &["ACL", "LIST"],
        ],
        &[
            &["GET", "app:1"],
            &["AUTH", "s3cret"],
            &["ACL", "SETUSER", "default", "nopass"],
            &["ACL", "GETUSER", "default"],
        ],
        &[&["GET", "app:1"], &["ACL", "LOG", "RESET"], &["ACL", "LOG"]],
    ];
    same_sessions(redis.port, diskdb.port, scripts);
}

#[test]
fn acl_changes_reach_connected_clients_and_client_list() {
    let s = Server::start(2, &[]);
    let mut admin = s.conn();
    query::<()>(
        &mut admin,
        &["ACL", "SETUSER", "u", "on", ">pw", "~*", "+@all"],
    );
    let mut u = redis::Client::open(format!("redis://u:pw@127.0.0.1:{}/", s.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let info: String = query(&mut u, &["CLIENT", "INFO"]);
    assert!(info.contains(" user=u "), "{info}");
    query::<()>(&mut u, &["SET", "k", "v"]);
    query::<()>(&mut admin, &["ACL", "SETUSER", "u", "-set"]);
    assert_eq!(
        q_err(&mut u, &["SET", "k", "v"]),
        "NOPERM this user has no permissions to run the 'set' command"
    );
    let log: Vec<redis::Value> = query(&mut admin, &["ACL", "LOG"]);
    assert_eq!(log.len(), 1);
    // a deleted user's connections are closed
    assert_eq!(int(&mut admin, &["ACL", "DELUSER", "u"]), 1);
    let gone: redis::RedisResult<String> = redis::cmd("GET").arg("k").query(&mut u);
    assert!(gone.is_err());
}

fn write_aclfile(dir: &std::path::Path, text: &str) -> String {
    let p = dir.join("users.acl");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn aclfile_loads_at_startup_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "user default on nopass ~* &* +@all\nuser alice on #{P1_SHA256} ~app:* resetchannels -@all +@read\n\nuser bob off resetchannels -@all\n"
    );
    let redis_dir = tmp.path().join("redis");
    let ours_dir = tmp.path().join("ours");
    std::fs::create_dir_all(&redis_dir).unwrap();
    std::fs::create_dir_all(&ours_dir).unwrap();
    let redis_file = write_aclfile(&redis_dir, &text);
    let ours_file = write_aclfile(&ours_dir, &text);
    let redis = start_redis_with(&["--aclfile", &redis_file]);
    let diskdb = Server::start(2, &["--aclfile", &ours_file]);
    let scripts: &[&[&[&str]]] = &[
        &[
            &["ACL", "LIST"],
            &["AUTH", "alice", "p1"],
            &["ACL", "WHOAMI"],
            &["GET", "x"],
        ],
        &[
            &["ACL", "SETUSER", "carol", "on", ">pw", "~*", "+@all"],
            &["ACL", "DELUSER", "bob"],
            &["ACL", "SAVE"],
            &["ACL", "SETUSER", "temp", "on"],
            &["ACL", "LOAD"],
            &["ACL", "LIST"],
            &["AUTH", "carol", "pw"],
        ],
    ];
    same_sessions(redis.port, diskdb.port, scripts);
    let saved = std::fs::read_to_string(&ours_file).unwrap();
    assert_eq!(saved, std::fs::read_to_string(&redis_file).unwrap());
    assert!(saved.contains(&format!("user alice on #{P1_SHA256}")));
    assert!(!saved.contains("pw"), "a password in clear: {saved}");
    // a broken file: ACL LOAD keeps the users and names file and line
    std::fs::write(&ours_file, "user ok on nopass\nuser bad on bogus\n").unwrap();
    let mut c = diskdb.conn();
    let e = q_err(&mut c, &["ACL", "LOAD"]);
    assert_eq!(e, format!("ERR {ours_file}:2: Syntax error. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"));
    let users: Vec<String> = query(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["alice", "carol", "default"]);
}

#[test]
fn broken_aclfile_stops_startup_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_aclfile(tmp.path(), "user a on nopass\nnot-a-user line\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diskdb"))
        .args([
            "--aclfile",
            &file,
            "--port",
            &free_port().to_string(),
            "--dir",
        ])
        .arg(tmp.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{file}:2 should start with user keyword")),
        "{err}"
    );
}
