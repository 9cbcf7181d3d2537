//! Packaging: `diskdb --version` and `--help`, the shipped diskdb.conf (every
//! key documented, and the server starts with it), the systemd unit and the
//! Dockerfile (their command lines run against the real binary; Docker itself
//! is not run), and the README sections that describe them and
//! scripts/release.sh. The release tarball itself is built by
//! scripts/release.sh, which is too slow for a test.
mod common;
use common::{binary, free_port};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server started from a full command line (plus `--port <free>` and
/// `--shards 1`); SIGTERM on drop.
struct Proc {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Proc {
    fn start(args: &[String], log: &Path) -> Proc {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(binary())
                .args(args)
                .args(["--port", &port.to_string(), "--shards", "1"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log).unwrap())
                .spawn()
                .expect("start diskdb");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if ping(port) {
                    return Proc {
                        child,
                        port,
                        log: log.to_path_buf(),
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "diskdb {args:?} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// SIGTERM (systemd's KillSignal, `docker stop`); the exit code.
    fn terminate(&mut self) -> Option<i32> {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no exit within 30s of SIGTERM: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[test]
fn version_prints_name_and_cargo_version() {
    let want = format!("diskdb {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let (ok, out, err) = run(&[flag]);
        assert!(ok, "diskdb {flag} failed: {err}");
        assert_eq!(out, want, "diskdb {flag}");
    }
}

#[test]
fn help_groups_flags_by_heading() {
    let (ok, help, err) = run(&["--help"]);
    assert!(ok, "diskdb --help failed: {err}");
    // flag -> the heading it is listed under (option lines start with '-')
    let mut group: BTreeMap<String, String> = BTreeMap::new();
    let mut heading = String::new();
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            heading = line.trim_end_matches(':').to_string();
        } else if line.trim_start().starts_with('-') {
            if let Some(i) = line.find("--") {
                let flag: String = line[i + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                group.entry(flag).or_insert_with(|| heading.clone());
            }
        }
    }
    let heading_of = |f: &str| -> &str {
        group
            .get(f)
            .unwrap_or_else(|| panic!("--{f} not in --help:\n{help}"))
    };
    for (f, h) in [
        ("config", "General"),
        ("bind", "Network"),
        ("port", "Network"),
        ("dir", "Storage"),
        ("sync", "Durability"),
    ] {
        assert_eq!(heading_of(f), h, "heading of --{f} in --help:\n{help}");
    }
    // Every server flag sits in a named group; only --help/--version don't.
    for (f, h) in &group {
        if f != "help" && f != "version" {
            assert!(
                h != "Options" && !h.is_empty(),
                "--{f} under {h:?}:\n{help}"
            );
        }
    }
    assert!(group.contains_key("version") && group.contains_key("help"));
}

/// The keys the config parser accepts, as `section.key`, read from its
/// unknown-field error (the sections deny unknown fields).
fn parser_keys() -> BTreeSet<String> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("probe.conf");
    let expected = |text: &str| -> Vec<String> {
        std::fs::write(&path, text).unwrap();
        let err = diskdb::config::FileConfig::load(&path).expect_err("unknown key accepted");
        let list = err
            .split("expected")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected error: {err}"));
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut keys = BTreeSet::new();
    for section in expected("no_such_section: 1\n") {
        for key in expected(&format!("{section}:\n  no_such_key: 1\n")) {
            keys.insert(format!("{section}.{key}"));
        }
    }
    assert!(keys.len() >= 10, "parsed {keys:?}");
    keys
}

#[test]
fn shipped_config_documents_every_key() {
    let conf = read("diskdb.conf");
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    let mut uncommented = String::new();
    for line in conf.lines() {
        if line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            section = line.split(':').next().unwrap().to_string();
            uncommented.push_str(line);
        } else if line.starts_with("  ") {
            // "  key: value   # comment" or "  # key: value   # comment"
            let commented = line.trim_start().starts_with('#');
            let body = line.trim_start().trim_start_matches('#').trim_start();
            let key = body.split(':').next().unwrap();
            let is_key = body.contains(':')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if commented && !is_key {
                uncommented.push('\n');
                continue; // a plain comment inside a section
            }
            assert!(is_key, "odd line in diskdb.conf: {line:?}");
            let rest = &body[key.len() + 1..];
            let comment = rest.split_once('#').map(|(_, c)| c.trim()).unwrap_or("");
            assert!(
                !comment.is_empty(),
                "{section}.{key} is not documented: {line:?}"
            );
            assert!(
                keys.insert(format!("{section}.{key}")),
                "{section}.{key} twice"
            );
            uncommented.push_str("  ");
            uncommented.push_str(body);
        }
        uncommented.push('\n');
    }
    let parser = parser_keys();
    assert_eq!(
        keys,
        parser,
        "diskdb.conf vs the config parser: undocumented {:?}, unknown {:?}",
        parser.difference(&keys).collect::<Vec<_>>(),
        keys.difference(&parser).collect::<Vec<_>>()
    );

    // With every commented-out example enabled, the file still parses.
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all.conf");
    std::fs::write(&all, &uncommented).unwrap();
    diskdb::config::FileConfig::load(&repo().join("diskdb.conf")).unwrap();
    diskdb::config::FileConfig::load(&all)
        .unwrap_or_else(|e| panic!("{e}\n--- uncommented file:\n{uncommented}"));

    // The README's Configuration table lists the same keys.
    let readme = read("README.md");
    let table: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(2))
        .filter_map(|cell| cell.trim().strip_prefix('`')?.strip_suffix('`'))
        .map(str::to_string)
        .collect();
    assert_eq!(
        table,
        parser,
        "README Configuration table vs the config parser: missing {:?}, unknown {:?}",
        parser.difference(&table).collect::<Vec<_>>(),
        table.difference(&parser).collect::<Vec<_>>()
    );
}

#[test]
fn server_starts_with_shipped_config() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = repo().join("diskdb.conf");
    let dir = tmp.path().join("data");
    let args: Vec<String> = vec![
        "--config".into(),
        conf.display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    let mut p = Proc::start(&args, &tmp.path().join("stderr.log"));
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{}/", p.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let info: String = redis::cmd("INFO").arg("server").query(&mut c).unwrap();
    assert!(
        info.contains(&format!("config_file:{}", conf.display())),
        "{info}"
    );
    let get = |c: &mut redis::Connection, name: &str| -> String {
        let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query(c).unwrap();
        v.get(1).cloned().unwrap_or_default()
    };
    assert_eq!(get(&mut c, "maxclients"), "10000");
    assert_eq!(get(&mut c, "appendfsync"), "everysec");
    assert_eq!(get(&mut c, "dir"), dir.display().to_string());
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    drop(c);
    assert_eq!(p.terminate(), Some(0), "SIGTERM exits cleanly");
    assert!(dir.join("DISKDB_MANIFEST").exists());
}

/// `key=value` lines of one `[section]` of a unit file.
fn unit_section(unit: &str, name: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
        } else if inside && !line.starts_with('#') {
            if let Some((k, v)) = line.split_once('=') {
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    out
}

#[test]
fn systemd_unit_sets_limits_and_runs_the_server() {
    let unit = read("packaging/diskdb.service");
    let svc = unit_section(&unit, "Service");
    let want = [
        ("LimitMEMLOCK", "infinity"),
        ("LimitNOFILE", "65536"),
        ("User", "diskdb"),
        ("KillSignal", "SIGTERM"),
        ("Restart", "on-failure"),
        ("StateDirectory", "diskdb"),
        (
            "ExecStart",
            "/usr/local/bin/diskdb --config /etc/diskdb/diskdb.conf --dir /var/lib/diskdb",
        ),
    ];
    for (k, v) in want {
        assert_eq!(
            svc.get(k).map(String::as_str),
            Some(v),
            "{k}= in diskdb.service"
        );
    }
    assert_eq!(
        unit_section(&unit, "Install")
            .get("WantedBy")
            .map(String::as_str),
        Some("multi-user.target")
    );

    // ExecStart, with the installed paths mapped into this checkout.
    let tmp = tempfile::tempdir().unwrap();
    let conf = repo().join("diskdb.conf").display().to_string();
    let state = tmp.path().join("var-lib-diskdb").display().to_string();
    let mut words = svc["ExecStart"].split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/diskdb"));
    let args: Vec<String> = words
        .map(|w| match w {
            "/etc/diskdb/diskdb.conf" => conf.clone(),
            "/var/lib/diskdb" => state.clone(),
            w => w.to_string(),
        })
        .collect();
    let mut p = Proc::start(&args, &tmp.path().join("stderr.log"));
    assert!(Path::new(&state).join("DISKDB_MANIFEST").exists());
    assert_eq!(p.terminate(), Some(0), "KillSignal=SIGTERM exits cleanly");
}

#[test]
fn dockerfile_is_multistage_nonroot_with_volume_port_and_healthcheck() {
    let df = read("Dockerfile");
    let lines: Vec<&str> = df
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "multi-stage build");
    assert!(
        lines[froms[0]].starts_with("FROM rust:"),
        "{}",
        lines[froms[0]]
    );
    assert!(
        lines[froms[0]].ends_with(" AS builder"),
        "{}",
        lines[froms[0]]
    );
    let runtime = &lines[*froms.last().unwrap()..];
    let find = |prefix: &str| -> &str {
        // the last one wins (and skips HEALTHCHECK's "CMD" continuation line)
        runtime
            .iter()
            .rev()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in the runtime stage"))
    };
    assert!(df.contains("cargo build --release --locked"));
    assert!(find("COPY --from=builder").contains("/usr/local/bin/diskdb"));
    let user = find("USER ").trim_start_matches("USER ").trim();
    assert!(!["root", "0", "0:0"].contains(&user), "USER {user} is root");
    assert!(
        runtime
            .iter()
            .any(|l| l.contains("useradd") || l.contains("adduser"))
            && df.contains(&format!(" {user}")),
        "the runtime stage does not create user {user}"
    );
    assert_eq!(find("VOLUME "), "VOLUME /data");
    assert_eq!(find("EXPOSE "), "EXPOSE 6380");
    let hc = df
        .split("HEALTHCHECK")
        .nth(1)
        .expect("HEALTHCHECK")
        .split("\n\n")
        .next()
        .unwrap();
    assert!(hc.contains("redis-cli -p 6380 ping"), "{hc}");
    assert!(df.contains("redis-tools"));

    // CMD, run with /data mapped to a temporary directory.
    let cmd: Vec<String> =
        serde_json::from_str(find("CMD ").trim_start_matches("CMD ")).expect("CMD [json array]");
    assert_eq!(
        cmd,
        [
            "diskdb",
            "--bind",
            "0.0.0.0",
            "--dir",
            "/data",
            "--protected-mode",
            "no"
        ]
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data").display().to_string();
    let args: Vec<String> = cmd[1..]
        .iter()
        .map(|a| {
            if a == "/data" {
                data.clone()
            } else {
                a.clone()
            }
        })
        .collect();
    let mut p = Proc::start(&args, &tmp.path().join("stderr.log"));
    assert_eq!(
        p.terminate(),
        Some(0),
        "docker stop (SIGTERM) exits cleanly"
    );

    // The build context keeps what the build needs and drops the bulk.
    let dockerignore = read(".dockerignore");
    let ignore: Vec<&str> = dockerignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for gone in ["target", ".git", "data", "dist"] {
        assert!(ignore.contains(&gone), "{gone} not in .dockerignore");
    }
    for kept in [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
        "benches",
        "vendor",
    ] {
        assert!(
            !ignore
                .iter()
                .any(|p| p.trim_start_matches('/') == kept || *p == "*" || *p == "**"),
            "{kept} excluded by .dockerignore"
        );
    }
}

/// The text of a `## title` section of README.md.
fn readme_section(readme: &str, title: &str) -> String {
    let start = readme
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("README has no \"## {title}\" section"));
    let body = &readme[start + 4 + title.len()..];
    body[..body.find("\n## ").unwrap_or(body.len())].to_string()
}

#[test]
fn readme_describes_release_docker_and_systemd() {
    let readme = read("README.md");
    let release = read("scripts/release.sh");

    // scripts/release.sh stages these files; the README lists the same.
    let staged = [
        "bin/diskdb",
        "diskdb.conf",
        "diskdb.service",
        "LICENSE",
        "README.md",
    ];
    let pre = readme_section(&readme, "Pre-built binaries");
    assert!(release.contains(r#"name="diskdb-$version-linux-$arch""#));
    assert!(release.contains(r#"out="dist/$name.tar.gz""#));
    assert!(release.contains(".sha256"));
    assert!(release.contains(r#""$root/bin/diskdb""#));
    assert!(release.contains(
        r#"install -m 0644 diskdb.conf LICENSE README.md packaging/diskdb.service "$root/""#
    ));
    assert!(
        pre.contains("dist/diskdb-<version>-linux-<arch>.tar.gz"),
        "{pre}"
    );
    assert!(pre.contains(".sha256"), "{pre}");
    for f in staged {
        assert!(
            pre.contains(&format!("diskdb-<version>-linux-<arch>/{f}")),
            "README Pre-built binaries does not list {f}"
        );
    }
    let mode = std::fs::metadata(repo().join("scripts/release.sh")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert!(
        mode.permissions().mode() & 0o111 != 0,
        "release.sh not executable"
    );
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(repo().join("scripts/release.sh"))
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let docker = readme_section(&readme, "Docker");
    for s in [
        "docker build",
        "--ulimit memlock=-1",
        "/data",
        "6380",
        "redis-cli",
        "health",
    ] {
        assert!(docker.contains(s), "README Docker section lacks {s:?}");
    }
    let systemd = readme_section(&readme, "systemd");
    for s in [
        "LimitMEMLOCK",
        "LimitNOFILE",
        "/var/lib/diskdb",
        "systemctl",
        "useradd",
    ] {
        assert!(systemd.contains(s), "README systemd section lacks {s:?}");
    }
}
