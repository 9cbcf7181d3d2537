//! Persistence commands: SAVE, BGSAVE, LASTSAVE (checkpoints of every shard,
//! see `storage/checkpoint.rs`).

use super::{cmd, lower, syntax_error, Args, BoxFuture, Command, Exec::*};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::server::ServerState;
use crate::shard::mesh::Mesh;
use crate::shard::Shard;
use crate::storage::checkpoint;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The persistence family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "save",
        1,
        "admin noscript",
        (0, 0, 0),
        "server",
        Coord(save),
    ),
    cmd(
        "bgsave",
        -1,
        "admin noscript",
        (0, 0, 0),
        "server",
        Coord(bgsave),
    ),
    cmd(
        "lastsave",
        1,
        "loading stale fast",
        (0, 0, 0),
        "server",
        Conn(lastsave),
    ),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// Checkpoints every shard (each on its own executor, WAL fsynced first)
/// and publishes the result; the caller holds the save slot.
async fn checkpoint_all(server: Arc<ServerState>, mesh: Arc<Mesh>) -> Result<PathBuf, String> {
    let started = Instant::now();
    let dir = server.config.dir.clone();
    let staging = checkpoint::prepare(&dir).inspect_err(|e| log::error!("save failed: {e}"))?;
    log::info!("saving a checkpoint to {}", staging.target.display());
    let parts: Vec<_> = (0..mesh.len())
        .map(|i| {
            let target = staging.shard_path(i);
            mesh.call(i, move |s: &Shard| {
                s.sync_wal();
                checkpoint::checkpoint_shard(&s.engine, &target, s.config.wal_enabled)
            })
        })
        .collect();
    let mut failure = None;
    for part in parts {
        if let Err(e) = part.await {
            failure.get_or_insert(e);
        }
    }
    let keep = server
        .config
        .runtime
        .checkpoint_keep
        .load(Ordering::Relaxed) as usize;
    let result = match failure {
        Some(e) => Err(e),
        None => checkpoint::complete(&dir, &staging, keep),
    };
    match &result {
        Ok(path) => log::info!(
            "checkpoint {} saved in {} ms",
            path.display(),
            started.elapsed().as_millis()
        ),
        Err(e) => {
            log::error!("checkpoint {} failed: {e}", staging.target.display());
            checkpoint::abandon(&staging);
        }
    }
    result
}

/// Runs a save in the claimed slot and records its outcome.
async fn save_and_record(server: Arc<ServerState>, mesh: Arc<Mesh>) -> Result<PathBuf, String> {
    let result = checkpoint_all(server.clone(), mesh).await;
    server.saves.finish(&result);
    result
}

fn save(c: &mut Client, _a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if !c.server.saves.try_begin() {
            return Reply::err(IN_PROGRESS);
        }
        match save_and_record(c.server.clone(), c.mesh().clone()).await {
            Ok(_) => Reply::ok(),
            Err(e) => Reply::err(format!("ERR {e}")),
        }
    })
}

fn bgsave(c: &mut Client, a: Args) -> BoxFuture<'_> {
    Box::pin(async move {
        if a.len() > 2 || (a.len() == 2 && lower(&a[1]) != "schedule") {
            return syntax_error();
        }
        if !c.server.saves.try_begin() {
            return Reply::err(IN_PROGRESS);
        }
        let (server, mesh) = (c.server.clone(), c.mesh().clone());
        glommio::spawn_local(async move {
            let _ = save_and_record(server, mesh).await;
        })
        .detach();
        Reply::Simple("Background saving started".into())
    })
}

fn lastsave(c: &mut Client, _a: &[Vec<u8>]) -> Reply {
    Reply::Int(c.server.saves.last_save_secs() as i64)
}
