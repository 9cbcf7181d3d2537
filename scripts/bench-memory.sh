#!/usr/bin/env bash
# Memory and disk footprint, side by side: DiskDB vs redis-server
# (appendonly yes, appendfsync everysec), same CPU set. Loads N keys of D
# bytes (random, incompressible values) into each server with the load
# harness (benches/load.rs, `load` workload, pipelined), then prints each
# server's RSS (VmRSS from /proc/<pid>/status), the disk bytes of DiskDB's
# data directory and of redis's appendonly directory, the ratios, and GET
# throughput over the loaded keys (redis-benchmark -t get -r N, P=1 and P=16,
# plus the harness's uniform GET with p99).
#
#   [N=1000000] [D=1024] [SHARDS=n] [SECS=5] [DISKDB_FLAGS="--hot-cache-size 128MB"] scripts/bench-memory.sh
#
# Needs about 2 × N × D bytes of free disk under $TMPDIR (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}; D=${D:-1024}; SECS=${SECS:-5}; GETS=${GETS:-200000}
SHARDS=${SHARDS:-$(nproc)}; CPUS="0-$(( $(nproc) - 1 ))"
. scripts/bench-lib.sh
work=$(mktemp -d); dpid=; rpid=
trap 'kill $dpid $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
dport=$((20000 + RANDOM % 10000)); rport=$((dport + 1))
mkdir -p "$work/redis"
taskset -c "$CPUS" "$BIN" --port $dport --dir "$work/diskdb" --shards "$SHARDS" --loglevel warn ${DISKDB_FLAGS:-} & dpid=$!
taskset -c "$CPUS" redis-server --port $rport --dir "$work/redis" --save "" --appendonly yes --appendfsync everysec --logfile "$work/redis.log" & rpid=$!
for p in $dport $rport; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
field() { awk -v k="$1" '{for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] }}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

for s in "diskdb:$dport" "redis:$rport"; do
  name=${s%%:*}; port=${s#*:}
  echo "bench-memory: loading $N keys × $D bytes into $name …" >&2
  out=$(taskset -c "$CPUS" "$LOAD" --port "$port" --workload load --keyspace "$N" --value-size "$D" --rb-keys --conns 8 --pipeline 64)
  echo "bench-memory: $name loaded in $(echo "$out" | field seconds) s ($(echo "$out" | field ops/s) SET/s), DBSIZE $(redis-cli -p "$port" dbsize)" >&2
done
sleep 2   # let everysec fsyncs and memtable flushes settle
d_rss=$(( $(rss_kb $dpid) * 1024 )); r_rss=$(( $(rss_kb $rpid) * 1024 ))
d_disk=$(du -sb "$work/diskdb" | cut -f1); r_disk=$(du -sb "$work/redis" | cut -f1)
raw=$(( N * D ))
echo
printf "%-22s %12s %12s %8s\n" "" diskdb redis "dd/redis"
printf "%-22s %12s %12s %8s\n" "RSS MB" "$(mb $d_rss)" "$(mb $r_rss)" "$(ratio $d_rss $r_rss)"
printf "%-22s %12s %12s %8s\n" "disk MB" "$(mb "$d_disk")" "$(mb "$r_disk")" "$(ratio "$d_disk" "$r_disk")"
printf "%-22s %12s %12s\n" "RSS / raw data" "$(ratio $d_rss $raw)" "$(ratio $r_rss $raw)"
printf "%-22s %12s %12s\n" "disk / raw data" "$(ratio "$d_disk" $raw)" "$(ratio "$r_disk" $raw)"
echo
echo "bench-memory: GET over the loaded keys …" >&2
printf "%-28s %12s %12s %8s\n" "GET" diskdb redis "dd/redis"
for P in 1 16; do
  g() { redis-benchmark -p "$1" -t get -n "$GETS" -r "$N" -c 50 -P "$P" --csv 2>/dev/null | awk -F',' 'NR>1 {gsub(/"/,"",$2); print $2}'; }
  dv=$(g $dport); rv=$(g $rport)
  printf "%-28s %12.0f %12.0f %8s\n" "redis-benchmark P=$P ops/s" "$dv" "$rv" "$(ratio "$dv" "$rv")"
done
d=$(taskset -c "$CPUS" "$LOAD" --port $dport --workload get --keyspace "$N" --rb-keys --conns 50 --seconds "$SECS")
r=$(taskset -c "$CPUS" "$LOAD" --port $rport --workload get --keyspace "$N" --rb-keys --conns 50 --seconds "$SECS")
printf "%-28s %12s %12s %8s\n" "harness uniform ops/s" "$(echo "$d" | field ops/s)" "$(echo "$r" | field ops/s)" "$(ratio "$(echo "$d" | field ops/s)" "$(echo "$r" | field ops/s)")"
printf "%-28s %12s %12s\n" "harness uniform p99" "$(echo "$d" | field p99)" "$(echo "$r" | field p99)"
printf "%-28s %12s %12s\n" "RSS MB after GETs" "$(mb $(( $(rss_kb $dpid) * 1024 )))" "$(mb $(( $(rss_kb $rpid) * 1024 )))"
echo "(N=$N D=$D raw=$(mb $raw) MB cpus=$CPUS shards=$SHARDS; DiskDB defaults${DISKDB_FLAGS:+ with $DISKDB_FLAGS} (see --help), lz4; redis appendonly yes everysec, no RDB)"
