# Sourced by the scripts: one build cache outside the clone, reused by every
# checkout and by CI, so RocksDB is compiled once per machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/diskdb-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
