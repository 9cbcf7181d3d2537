//! The CONFIG GET / CONFIG SET parameter table.

use super::{Config, SyncPolicy};
use crate::util::glob::glob_match;
use std::sync::atomic::Ordering;

type Getter = fn(&Config) -> String;
type Setter = fn(&Config, &str) -> Result<(), String>;

/// One parameter: its Redis-style name, how to read it and, if it can change
/// at run time, how to set it.
pub struct Param {
    /// Name as used by CONFIG GET/SET.
    pub name: &'static str,
    /// Reads the current value.
    pub get: Getter,
    /// Changes it; `None` for settings fixed at startup.
    pub set: Option<Setter>,
}

fn path_or_empty(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map_or(String::new(), |p| p.display().to_string())
}

fn parse_u64(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

/// Every parameter CONFIG knows.
pub static PARAMS: &[Param] = &[
    Param {
        name: "bind",
        get: |c| c.bind.clone(),
        set: None,
    },
    Param {
        name: "port",
        get: |c| c.port.to_string(),
        set: None,
    },
    Param {
        name: "tls-port",
        get: |c| c.tls.port.to_string(),
        set: None,
    },
    Param {
        name: "tls-cert-file",
        get: |c| path_or_empty(&c.tls.cert_file),
        set: None,
    },
    Param {
        name: "tls-key-file",
        get: |c| path_or_empty(&c.tls.key_file),
        set: None,
    },
    Param {
        name: "tls-ca-cert-file",
        get: |c| path_or_empty(&c.tls.ca_cert_file),
        set: None,
    },
    Param {
        name: "tls-auth-clients",
        get: |c| c.tls.auth_clients.name().into(),
        set: None,
    },
    Param {
        name: "dir",
        get: |c| c.dir.display().to_string(),
        set: None,
    },
    Param {
        name: "shards",
        get: |c| c.shards.to_string(),
        set: None,
    },
    Param {
        name: "connection-affinity",
        get: |c| yes_no(c.connection_affinity),
        set: None,
    },
    Param {
        name: "pin-shards",
        get: |c| yes_no(c.pin_shards),
        set: None,
    },
    Param {
        name: "batch-scheduling",
        get: |c| yes_no(c.batch_scheduling),
        set: None,
    },
    Param {
        name: "idle-spin",
        get: |c| format!("{}us", c.idle_spin_us),
        set: None,
    },
    Param {
        name: "databases",
        get: |_| "16".into(),
        set: None,
    },
    Param {
        name: "appendonly",
        get: |c| yes_no(c.wal_enabled),
        set: None,
    },
    Param {
        name: "appendfsync",
        get: |c| c.runtime.sync().name().into(),
        set: Some(|c, v| {
            let p = SyncPolicy::parse(v)
                .ok_or("argument(s) must be one of the following: always, everysec, no")?;
            c.runtime.set_sync(p);
            Ok(())
        }),
    },
    Param {
        name: "sync-interval",
        get: |c| {
            c.runtime
                .sync_interval_ms
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|c, v| {
            let ms = crate::config::Millis::parse(v)
                .ok_or("argument must be a duration such as 1000ms")?;
            c.runtime
                .sync_interval_ms
                .store(ms.0.max(1), Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "compression",
        get: |c| c.compression.name().into(),
        set: None,
    },
    Param {
        name: "max-log-size",
        get: |c| c.max_log_size.to_string(),
        set: None,
    },
    Param {
        name: "hot-cache-size",
        get: |c| c.hot_cache_size.to_string(),
        set: None,
    },
    Param {
        name: "low-priority-compaction",
        get: |c| yes_no(c.low_priority_compaction),
        set: None,
    },
    Param {
        name: "enable-debug-command",
        get: |c| c.enable_debug_command.clone(),
        set: None,
    },
    Param {
        name: "block-cache-size",
        get: |c| c.block_cache_size.to_string(),
        set: None,
    },
    Param {
        name: "write-buffer-size",
        get: |c| c.write_buffer_size.to_string(),
        set: None,
    },
    Param {
        name: "maxclients",
        get: |c| c.runtime.maxclients.load(Ordering::Relaxed).to_string(),
        set: Some(|c, v| {
            let n = parse_u64(v)?;
            if n == 0 {
                return Err("argument must be between 1 and 4294967295 inclusive".into());
            }
            c.runtime.maxclients.store(n, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "requirepass",
        // kept hashed only: shown as Redis shows hashed ACL passwords
        get: |c| {
            let h = *c
                .runtime
                .requirepass
                .read()
                .unwrap_or_else(|e| e.into_inner());
            h.map_or(String::new(), |h| {
                let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
                format!("#{hex}")
            })
        },
        set: Some(|c, v| {
            let hash = (!v.is_empty()).then(|| super::password_hash(v));
            c.runtime.users.set_default_password(hash);
            *c.runtime
                .requirepass
                .write()
                .unwrap_or_else(|e| e.into_inner()) = hash;
            Ok(())
        }),
    },
    Param {
        name: "aclfile",
        get: |c| {
            c.aclfile
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        },
        set: None,
    },
    Param {
        name: "protected-mode",
        get: |c| yes_no(c.runtime.protected_mode.load(Ordering::Relaxed)),
        set: Some(|c, v| {
            let on = parse_yes_no(v)?;
            c.runtime.protected_mode.store(on, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "timeout",
        get: |c| c.runtime.timeout.load(Ordering::Relaxed).to_string(),
        set: Some(|c, v| {
            c.runtime.timeout.store(parse_u64(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "loglevel",
        get: |_| log::max_level().to_string().to_lowercase(),
        set: Some(|_, v| {
            let lvl = match v.to_ascii_lowercase().as_str() {
                "verbose" => log::LevelFilter::Debug,
                "notice" => log::LevelFilter::Info,
                "warning" => log::LevelFilter::Warn,
                other => other.parse().map_err(|_| {
                    "argument(s) must be one of the following: error, warn, info, debug, trace"
                })?,
            };
            log::set_max_level(lvl);
            Ok(())
        }),
    },
    Param {
        name: "slowlog-log-slower-than",
        get: |c| {
            c.runtime
                .slowlog_log_slower_than
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|c, v| {
            let n: i64 = v
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer")?;
            c.runtime
                .slowlog_log_slower_than
                .store(n, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "slowlog-max-len",
        get: |c| {
            c.runtime
                .slowlog_max_len
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|c, v| {
            c.runtime
                .slowlog_max_len
                .store(parse_u64(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "latency-monitor-threshold",
        get: |c| {
            c.runtime
                .latency_monitor_threshold
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|c, v| {
            c.runtime
                .latency_monitor_threshold
                .store(parse_u64(v)?, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "save",
        get: |_| String::new(),
        set: Some(|_, _| Ok(())),
    },
    Param {
        name: "checkpoint-keep",
        get: |c| {
            c.runtime
                .checkpoint_keep
                .load(Ordering::Relaxed)
                .to_string()
        },
        set: Some(|c, v| {
            let n = parse_u64(v)?;
            if n == 0 {
                return Err("argument must be at least 1".into());
            }
            c.runtime.checkpoint_keep.store(n, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "maxmemory",
        get: |_| "0".into(),
        set: None,
    },
    Param {
        name: "maxmemory-policy",
        get: |_| "noeviction".into(),
        set: None,
    },
    Param {
        name: "notify-keyspace-events",
        get: |c| {
            crate::shard::pubsub::format_notify_flags(
                c.runtime.notify_keyspace_events.load(Ordering::Relaxed),
            )
        },
        set: Some(|c, v| {
            let flags = crate::shard::pubsub::parse_notify_flags(v)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            c.runtime
                .notify_keyspace_events
                .store(flags, Ordering::Relaxed);
            Ok(())
        }),
    },
    Param {
        name: "client-output-buffer-limit",
        get: |c| {
            ["normal", "slave", "pubsub"]
                .iter()
                .enumerate()
                .map(|(i, class)| {
                    let (hard, soft, secs) = c.runtime.obuf_limit(i);
                    format!("{class} {hard} {soft} {secs}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: Some(set_obuf_limits),
    },
];

/// Redis's `memtoull`: a byte count with an optional `b`, `k`, `kb`, `m`,
/// `mb`, `g` or `gb` unit (`k` = 1000, `kb` = 1024).
fn parse_memory(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1 << 20,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1 << 30,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// CONFIG SET client-output-buffer-limit `<class> <hard> <soft> <secs>` …:
/// all groups are checked before any is applied.
fn set_obuf_limits(c: &Config, v: &str) -> Result<(), String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut updates = Vec::new();
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => crate::config::OBUF_PUBSUB,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let values = (
            parse_memory(g[1]),
            parse_memory(g[2]),
            g[3].parse::<u64>().ok(),
        );
        let (Some(hard), Some(soft), Some(secs)) = values else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        updates.push((class, [hard, soft, secs]));
    }
    for (class, vals) in updates {
        for (i, v) in vals.into_iter().enumerate() {
            c.runtime.obuf_limits[class * 3 + i].store(v, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// CONFIG GET: every (name, value) pair matching any of the glob patterns,
/// each name once.
pub fn get_matching(config: &Config, patterns: &[Vec<u8>]) -> Vec<(String, String)> {
    PARAMS
        .iter()
        .filter(|p| {
            patterns
                .iter()
                .any(|pat| glob_match(pat, p.name.as_bytes(), true))
        })
        .map(|p| (p.name.to_string(), (p.get)(config)))
        .collect()
}

/// CONFIG SET of one parameter; the error is Redis's CONFIG SET message.
pub fn set(config: &Config, name: &str, value: &str) -> Result<(), String> {
    let lname = name.to_ascii_lowercase();
    let Some(p) = PARAMS.iter().find(|p| p.name == lname) else {
        return Err(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
        ));
    };
    let Some(setter) = p.set else {
        return Err(format!("ERR CONFIG SET failed (possibly related to argument '{lname}') - can't set immutable config"));
    };
    setter(config, value).map_err(|e| {
        format!("ERR CONFIG SET failed (possibly related to argument '{lname}') - {e}")
    })
}
