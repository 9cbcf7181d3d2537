#!/usr/bin/env bash
# Unpacks a release tarball in a temporary directory, starts its binary with
# the bundled config, and checks it answers PING.
#   scripts/smoke-release.sh dist/diskdb-<version>-linux-<arch>.tar.gz
set -euo pipefail
tarball=${1:?usage: scripts/smoke-release.sh TARBALL}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
root=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$root/bin/diskdb" --config "$root/diskdb.conf" --port "$port" --dir "$work/data" --shards 1 --loglevel warn &
pid=$!
for _ in $(seq 100); do
  if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
    echo "smoke-release: $(basename "$tarball") binary answered PONG on port $port"
    exit 0
  fi
  sleep 0.1
done
echo "smoke-release: the binary from $tarball did not answer PING" >&2
exit 1
