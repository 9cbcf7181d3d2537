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

server="$CARGO_TARGET_DIR/release/diskdb"
echo "test: Python client (clients/python) against $server"
venv="${DISKDB_VENV:-$HOME/.cache/diskdb-venv}"
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv" || { echo "test: python3 -m venv failed (install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q pytest
fi
"$venv/bin/pip" install -q --force-reinstall --no-deps ./clients/python
(cd clients/python && DISKDB_SERVER="$server" "$venv/bin/pytest" -q -p no:cacheprovider)

echo "test: Go client (clients/go) against $server"
(cd clients/go && export GOCACHE="${GOCACHE:-$HOME/.cache/diskdb-go}" &&
  go vet ./... && DISKDB_SERVER="$server" go test -count=1 ./...)

echo "test: release tarball (scripts/release.sh) starts and answers PING"
scripts/release.sh > "$CARGO_TARGET_DIR/release.log" 2>&1 || { cat "$CARGO_TARGET_DIR/release.log" >&2; exit 1; }
scripts/smoke-release.sh "$(ls -t dist/diskdb-*-linux-*.tar.gz | head -n 1)"
