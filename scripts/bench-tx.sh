#!/usr/bin/env bash
# Transactions and Pub/Sub side by side: DiskDB vs redis-server (appendonly
# yes, appendfsync everysec), same CPU set, one run, driven by the load
# harness (benches/load.rs). Prints ops/s, p99 and the DiskDB/Redis ratio.
#
#   scripts/bench-tx.sh [seconds per run, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}; SHARDS=${SHARDS:-$(nproc)}; CPUS="0-$(( $(nproc) - 1 ))"
. scripts/bench-lib.sh
work=$(mktemp -d); trap 'kill $dpid $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
dport=$((20000 + RANDOM % 10000)); rport=$((dport + 1))
taskset -c "$CPUS" "$BIN" --port $dport --dir "$work/diskdb" --shards "$SHARDS" --loglevel warn & dpid=$!
taskset -c "$CPUS" redis-server --port $rport --dir "$work" --save "" --appendonly yes --appendfsync everysec --logfile "$work/redis.log" & rpid=$!
for p in $dport $rport; do
  for _ in $(seq 100); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done
done
field() { awk -v k="$1" '{for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] }}'; }
printf "%-12s %5s %5s %11s %11s %7s %10s %10s\n" workload conns subs diskdb redis ratio "p99 dd" "p99 redis"
run() { # workload conns subscribers
  d=$(taskset -c "$CPUS" "$LOAD" --port $dport --workload "$1" --conns "$2" --subscribers "$3" --seconds "$SECS")
  r=$(taskset -c "$CPUS" "$LOAD" --port $rport --workload "$1" --conns "$2" --subscribers "$3" --seconds "$SECS")
  dk=ops/s; [ "$1" = publish ] && [ "$3" -gt 1 ] && dk=deliveries/s
  dv=$(echo "$d" | field "$dk"); rv=$(echo "$r" | field "$dk")
  printf "%-12s %5s %5s %11s %11s %7.2f %10s %10s\n" "$1" "$2" "$3" "$dv" "$rv" "$(echo "$dv $rv" | awk '{print ($2>0?$1/$2:0)}')" \
    "$(echo "$d" | field p99)" "$(echo "$r" | field p99)"
}
run exec-local 50 0
run exec-cross 50 0
run mset-cross 50 0
run publish 50 1
run publish 10 100
echo "(seconds=$SECS cpus=$CPUS shards=$SHARDS; publish with 100 subscribers reports message deliveries/s)"
