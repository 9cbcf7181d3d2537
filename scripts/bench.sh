#!/usr/bin/env bash
# Side-by-side redis-benchmark: DiskDB vs redis-server (appendonly yes,
# appendfsync everysec), same machine, same CPU set, one run (the servers
# are benchmarked one after the other, never at once). Prints a table
# of ops/s and the DiskDB/Redis ratio for each command and pipeline depth.
#
#   [SYNC=always|everysec] [SHARDS=n] scripts/bench.sh [-n requests] [-c clients] [-d size] [-t tests] [-P "1 16"]
#
# After the -t tests, the custom commands in $CUSTOM (';'-separated, default
# "ZRANGE myzset 0 9", which reads the set the zadd test filled) run too.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${SHARDS:-$(nproc)}; SYNC=${SYNC:-everysec}; N=100000; C=50; D=1024; TESTS="set,get,incr"; PIPES="1 16"; CPUS="0-$(( $(nproc) - 1 ))"
while getopts "n:c:d:t:P:" o; do
  case $o in n) N=$OPTARG;; c) C=$OPTARG;; d) D=$OPTARG;; t) TESTS=$OPTARG;; P) PIPES=$OPTARG;; *) exit 2;; esac
done
scripts/setup.sh test >/dev/null
. scripts/env.sh
cargo build --release --bin diskdb 2>&1 | tail -1
BIN="$CARGO_TARGET_DIR/release/diskdb"
work=$(mktemp -d); trap 'kill $dpid $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
dport=$((20000 + RANDOM % 10000)); rport=$((dport + 1))
taskset -c "$CPUS" "$BIN" --port $dport --dir "$work/diskdb" --shards "$SHARDS" --sync "$SYNC" --loglevel warn & dpid=$!
taskset -c "$CPUS" redis-server --port $rport --dir "$work" --save "" --appendonly yes --appendfsync "$SYNC" --logfile "$work/redis.log" & rpid=$!
for p in $dport $rport; do
  for _ in $(seq 100); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done
done
CUSTOM=${CUSTOM-"ZRANGE myzset 0 9"}
csv() { awk -F',' 'NR>1 {gsub(/"/,"",$1); gsub(/"/,"",$2); gsub(/ /,"_",$1); print $1, $2}'; }
bench() { # port pipe -> "test ops" lines
  redis-benchmark -p "$1" -n "$N" -c "$C" -d "$D" -P "$2" -t "$TESTS" -r 100000 --csv 2>/dev/null | csv
  IFS=';' read -ra cmds <<< "$CUSTOM"
  for cmd in "${cmds[@]}"; do
    [ -n "$cmd" ] || continue
    # shellcheck disable=SC2086
    redis-benchmark -p "$1" -n "$N" -c "$C" -P "$2" --csv $cmd 2>/dev/null | csv
  done
}
printf "%-16s %4s %12s %12s %7s\n" test P diskdb redis ratio
for P in $PIPES; do
  redis-cli -p $dport flushall >/dev/null; redis-cli -p $rport flushall >/dev/null
  # one server at a time: run side by side, the two benchmarks would share
  # the CPUs and each server would get about half of them
  bench $dport "$P" > "$work/diskdb.txt"
  bench $rport "$P" > "$work/redis.txt"
  paste -d' ' "$work/diskdb.txt" "$work/redis.txt" |
    awk -v P="$P" '{ printf "%-16s %4s %12.0f %12.0f %7.2f\n", $1, P, $2, $4, ($4>0 ? $2/$4 : 0) }'
done
echo "(requests=$N clients=$C size=$D cpus=$CPUS shards=$SHARDS; DiskDB sync=$SYNC, redis appendonly yes appendfsync $SYNC)"
