//! What a shard records about the commands it runs: per-command counters
//! (INFO commandstats), error counters (INFO errorstats), the slow log and
//! latency events. INFO, SLOWLOG and LATENCY merge every shard's records.

use crate::commands::Command;
use crate::config::Runtime;
use crate::protocol::Reply;
use crate::server::client::ClientHandle;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one command.
#[derive(Default, Clone, Debug)]
pub struct CommandStat {
    /// Executions.
    pub calls: u64,
    /// Total execution time in µs.
    pub usec: u64,
    /// Refused before running (arity, …).
    pub rejected: u64,
    /// Ran and replied with an error.
    pub failed: u64,
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    /// Unique, increasing across the server.
    pub id: u64,
    /// Unix time in seconds.
    pub time: u64,
    /// Execution time in µs.
    pub usec: u64,
    /// The command (at most 32 arguments of at most 128 bytes, as Redis).
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: String,
}

/// Latency samples of one event kind.
#[derive(Clone, Debug, Default)]
pub struct LatencyEvent {
    /// (unix time, ms) samples, oldest first, at most 160.
    pub history: VecDeque<(u64, u64)>,
    /// Largest sample since reset.
    pub max_ms: u64,
}

static NEXT_SLOWLOG_ID: AtomicU64 = AtomicU64::new(0);
const LATENCY_HISTORY: usize = 160;

/// What SLOWLOG keeps of a command: at most 32 arguments of at most 128
/// bytes, the last one replaced by a count when there are more (as Redis).
pub fn preview(args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut kept: Vec<Vec<u8>> = args
        .iter()
        .take(32)
        .map(|a| a[..a.len().min(128)].to_vec())
        .collect();
    if args.len() > 32 {
        kept[31] = format!("... ({} more arguments)", args.len() - 31).into_bytes();
    }
    kept
}

/// A shard's records.
#[derive(Default)]
pub struct Observations {
    /// Per-command counters (updated for every command: ahash, not
    /// SipHash).
    pub commands: HashMap<&'static str, CommandStat, ahash::RandomState>,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`, …).
    pub errors: HashMap<String, u64>,
    /// Slowest commands, newest last.
    pub slowlog: VecDeque<SlowEntry>,
    /// Latency events by name (`command`, `fast-command`).
    pub latency: HashMap<&'static str, LatencyEvent>,
}

fn error_code(reply: &Reply) -> Option<String> {
    match reply {
        Reply::Error(e) => Some(e.split(' ').next().unwrap_or("ERR").to_string()),
        _ => None,
    }
}

impl Observations {
    /// Records one execution of `cmd`.
    pub fn record(
        &mut self,
        cmd: &'static Command,
        args: &[Vec<u8>],
        usec: u64,
        reply: &Reply,
        who: &ClientHandle,
        rt: &Runtime,
    ) {
        let stat = self.commands.entry(cmd.name).or_default();
        stat.calls += 1;
        stat.usec += usec;
        if let Some(code) = error_code(reply) {
            stat.failed += 1;
            *self.errors.entry(code).or_default() += 1;
        }
        let slower_than = rt.slowlog_log_slower_than.load(Ordering::Relaxed);
        if slower_than >= 0 && usec >= slower_than as u64 {
            self.log_slow(
                args,
                usec,
                who,
                rt.slowlog_max_len.load(Ordering::Relaxed) as usize,
            );
        }
        let threshold = rt.latency_monitor_threshold.load(Ordering::Relaxed);
        if threshold > 0 && usec / 1000 >= threshold {
            let event = if cmd.has_flag("fast") {
                "fast-command"
            } else {
                "command"
            };
            let e = self.latency.entry(event).or_default();
            e.history
                .push_back((crate::util::now_ms() / 1000, usec / 1000));
            if e.history.len() > LATENCY_HISTORY {
                e.history.pop_front();
            }
            e.max_ms = e.max_ms.max(usec / 1000);
        }
    }

    /// Records a command refused before it ran (its error reply given).
    pub fn reject(&mut self, cmd: Option<&'static Command>, reply: &Reply) {
        if let Some(cmd) = cmd {
            self.commands.entry(cmd.name).or_default().rejected += 1;
        }
        if let Some(code) = error_code(reply) {
            *self.errors.entry(code).or_default() += 1;
        }
    }

    fn log_slow(&mut self, args: &[Vec<u8>], usec: u64, who: &ClientHandle, max_len: usize) {
        if max_len == 0 {
            return;
        }
        let kept = preview(args);
        self.slowlog.push_back(SlowEntry {
            id: NEXT_SLOWLOG_ID.fetch_add(1, Ordering::Relaxed),
            time: crate::util::now_ms() / 1000,
            usec,
            args: kept,
            addr: who.addr.clone(),
            name: who.name.lock().unwrap().clone(),
        });
        while self.slowlog.len() > max_len {
            self.slowlog.pop_front();
        }
    }

    /// Forgets counters (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.commands.clear();
        self.errors.clear();
    }
}
