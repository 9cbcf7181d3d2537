//! The data directory's manifest: format version and shard count, checked
//! at startup so a directory is never opened with the wrong layout.

use super::encoding::FORMAT_VERSION;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the manifest inside the data directory.
pub const MANIFEST_FILE: &str = "DISKDB_MANIFEST";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format_version: u8,
    shards: usize,
}

/// Creates the manifest in a new directory, or checks an existing one
/// against the requested shard count and this build's format version.
pub fn check_or_create(dir: &Path, shards: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let path = dir.join(MANIFEST_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let m: Manifest = serde_json::from_str(&text)
                .map_err(|e| format!("corrupt manifest {}: {e}", path.display()))?;
            if m.format_version != FORMAT_VERSION {
                return Err(format!(
                    "data directory {} has format version {}, this build reads version {}",
                    dir.display(),
                    m.format_version,
                    FORMAT_VERSION
                ));
            }
            if m.shards != shards {
                return Err(format!(
                    "data directory {} was created with {} shards but --shards is {}; start with --shards {} (resharding is not supported yet)",
                    dir.display(),
                    m.shards,
                    shards,
                    m.shards
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if dir.join("shard-0").exists() {
                return Err(format!(
                    "data directory {} has shard data but no {MANIFEST_FILE}",
                    dir.display()
                ));
            }
            let text = serde_json::to_string_pretty(&Manifest {
                format_version: FORMAT_VERSION,
                shards,
            })
            .expect("manifest serializes");
            let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
            std::fs::write(&tmp, text)
                .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| format!("cannot write manifest {}: {e}", path.display()))
        }
        Err(e) => Err(format!("cannot read manifest {}: {e}", path.display())),
    }
}
