#!/usr/bin/env bash
# Runs every test: unit tests, integration tests against the real binary,
# the differential test against redis-server. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
. scripts/env.sh
echo "test: building (cache in $CARGO_TARGET_DIR)"
cargo build --release --all-targets
echo "test: running"
cargo test --release --no-fail-fast -- --test-threads 4
