//! Checkpoints (SAVE / BGSAVE): a RocksDB checkpoint of every shard plus a
//! copy of the manifest under `<dir>/checkpoints/<unix-ms>`, so that the
//! checkpoint directory is itself a valid `--dir`.
//!
//! A save is staged in `<unix-ms>.tmp` and renamed once every shard and the
//! manifest are in place: a directory without the suffix is complete.

use super::manifest::MANIFEST_FILE;
use super::Engine;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Sub-directory of the data directory that holds checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// Suffix of a checkpoint still being written.
const STAGING_SUFFIX: &str = ".tmp";

/// Process-wide state of saves (INFO persistence, LASTSAVE).
#[derive(Debug)]
pub struct SaveState {
    in_progress: AtomicBool,
    last_save_secs: AtomicU64,
    last_ok: AtomicBool,
    last_path: Mutex<Option<PathBuf>>,
}

impl SaveState {
    /// No save yet: LASTSAVE reports `started_secs`, as Redis does.
    pub fn new(started_secs: u64) -> SaveState {
        SaveState {
            in_progress: AtomicBool::new(false),
            last_save_secs: AtomicU64::new(started_secs),
            last_ok: AtomicBool::new(true),
            last_path: Mutex::new(None),
        }
    }

    /// Claims the single save slot; false if a save is already running.
    pub fn try_begin(&self) -> bool {
        self.in_progress
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Records a save's outcome and frees the slot.
    pub fn finish(&self, result: &Result<PathBuf, String>) {
        match result {
            Ok(path) => {
                self.last_save_secs
                    .store(crate::util::now_ms() / 1000, Ordering::SeqCst);
                *self.last_path.lock().unwrap() = Some(path.clone());
                self.last_ok.store(true, Ordering::SeqCst);
            }
            Err(_) => self.last_ok.store(false, Ordering::SeqCst),
        }
        self.in_progress.store(false, Ordering::SeqCst);
    }

    /// Whether a save is running.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::SeqCst)
    }

    /// Unix seconds of the last successful save (startup if none).
    pub fn last_save_secs(&self) -> u64 {
        self.last_save_secs.load(Ordering::SeqCst)
    }

    /// Whether the last save succeeded (true if none ran).
    pub fn last_ok(&self) -> bool {
        self.last_ok.load(Ordering::SeqCst)
    }

    /// Directory of the last successful save.
    pub fn last_path(&self) -> Option<PathBuf> {
        self.last_path.lock().unwrap().clone()
    }
}

/// A checkpoint being written: shards go into `staging`, which becomes
/// `target` once complete.
#[derive(Debug, Clone)]
pub struct Staging {
    /// `<dir>/checkpoints/<unix-ms>.tmp`.
    pub staging: PathBuf,
    /// `<dir>/checkpoints/<unix-ms>`.
    pub target: PathBuf,
}

impl Staging {
    /// Where shard `id`'s checkpoint goes.
    pub fn shard_path(&self, id: usize) -> PathBuf {
        self.staging.join(format!("shard-{id}"))
    }
}

/// Creates the staging directory of a new checkpoint of `dir`.
pub fn prepare(dir: &Path) -> Result<Staging, String> {
    let root = dir.join(CHECKPOINTS_DIR);
    std::fs::create_dir_all(&root)
        .map_err(|e| format!("cannot create checkpoint directory {}: {e}", root.display()))?;
    let mut ms = crate::util::now_ms();
    loop {
        let target = root.join(ms.to_string());
        let staging = root.join(format!("{ms}{STAGING_SUFFIX}"));
        if !target.exists() && !staging.exists() {
            std::fs::create_dir(&staging)
                .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
            return Ok(Staging { staging, target });
        }
        ms += 1;
    }
}

/// Up to this many WAL bytes, a checkpoint copies the WAL instead of
/// flushing the memtables (RocksDB's `log_size_for_flush`).
const FLUSH_ABOVE_WAL_BYTES: u64 = 8 << 20;

/// One shard's part of a save: a RocksDB checkpoint (hard-linked SST files,
/// copied WAL and MANIFEST) into `target`. The caller makes the WAL
/// durable first. With the WAL on and under [`FLUSH_ABOVE_WAL_BYTES`], the
/// memtables are not flushed: the checkpoint holds exactly what the WAL
/// holds (no blocking flush, and none of the WAL-less writes a multi-shard
/// operation stages before its commit). Without a WAL, memtables must be
/// flushed or recent writes would be missing.
pub fn checkpoint_shard(engine: &Engine, target: &Path, wal_enabled: bool) -> Result<(), String> {
    let fail = |e: rocksdb::Error| {
        format!(
            "checkpoint of {} into {} failed: {e}",
            engine.path().display(),
            target.display()
        )
    };
    rocksdb::checkpoint::Checkpoint::new(engine.db())
        .map_err(fail)?
        .create_checkpoint_with_log_size(
            target,
            if wal_enabled {
                FLUSH_ABOVE_WAL_BYTES
            } else {
                0
            },
        )
        .map_err(fail)
}

/// Completes a save: copies the manifest, publishes the directory under its
/// final name and keeps only the newest `keep` checkpoints.
pub fn complete(dir: &Path, s: &Staging, keep: usize) -> Result<PathBuf, String> {
    let from = dir.join(MANIFEST_FILE);
    let to = s.staging.join(MANIFEST_FILE);
    std::fs::copy(&from, &to)
        .and_then(|_| std::fs::File::open(&to)?.sync_all())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
    std::fs::rename(&s.staging, &s.target).map_err(|e| {
        format!(
            "cannot rename {} to {}: {e}",
            s.staging.display(),
            s.target.display()
        )
    })?;
    if let Some(root) = s.target.parent() {
        if let Err(e) = std::fs::File::open(root).and_then(|d| d.sync_all()) {
            log::warn!("cannot fsync {}: {e}", root.display());
        }
        prune(root, keep.max(1));
    }
    Ok(s.target.clone())
}

/// Removes a failed save's staging directory.
pub fn abandon(s: &Staging) {
    if let Err(e) = std::fs::remove_dir_all(&s.staging) {
        log::warn!("cannot remove {}: {e}", s.staging.display());
    }
}

/// Deletes all but the newest `keep` complete checkpoints under `root`,
/// and staging directories left by an interrupted save.
pub fn prune(root: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut complete = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(ms) = name.parse::<u64>() {
            complete.push((ms, e.path()));
        } else if name.ends_with(STAGING_SUFFIX) {
            // only one save runs at a time, and it has just completed
            remove_logged(&e.path());
        }
    }
    complete.sort();
    let extra = complete.len().saturating_sub(keep);
    for (_, path) in complete.into_iter().take(extra) {
        remove_logged(&path);
    }
}

fn remove_logged(path: &Path) {
    match std::fs::remove_dir_all(path) {
        Ok(()) => log::info!("removed old checkpoint {}", path.display()),
        Err(e) => log::warn!("cannot remove old checkpoint {}: {e}", path.display()),
    }
}
