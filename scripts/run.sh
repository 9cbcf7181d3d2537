#!/usr/bin/env bash
# Builds DiskDB (release) and runs it: 127.0.0.1:6380, data in ./data.
# Extra arguments go to the server, e.g. scripts/run.sh --port 7000 --sync always
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
. scripts/env.sh
exec cargo run --release --bin diskdb -- "$@"
