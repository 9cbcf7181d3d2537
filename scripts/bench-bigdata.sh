#!/usr/bin/env bash
# Data set larger than the caches: DiskDB only, with a small block cache and
# hot-key cache (a temporary diskdb.conf), loads N keys × D bytes (about 10×
# the block cache by default), then measures GET throughput and
# p50/p99/p99.9 with the load harness (benches/load.rs) for a uniform and a
# Zipf (s = 0.99) key distribution. After each run it prints INFO's cache
# and memtable usage and the keyspace hit count.
#
#   [N=400000] [D=1024] [CACHE=32MB] [HOT=4MB] [WB=32MB] [SECS=10] [CONNS=50] \
#     [SHARDS=n] scripts/bench-bigdata.sh
#
# The SST files stay in the OS page cache on a machine with free RAM, so a
# block-cache miss costs a pread from the page cache plus LZ4 decoding, not a
# device read; use N × D larger than free RAM to measure the device.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-400000}; D=${D:-1024}; CACHE=${CACHE:-32MB}; HOT=${HOT:-4MB}; WB=${WB:-32MB}
SECS=${SECS:-10}; CONNS=${CONNS:-50}; SHARDS=${SHARDS:-$(nproc)}; CPUS="0-$(( $(nproc) - 1 ))"
. scripts/bench-lib.sh
work=$(mktemp -d); dpid=
trap 'kill $dpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 10000))
cat > "$work/diskdb.conf" <<CONF
storage:
  block_cache_size: $CACHE
  hot_cache_size: $HOT
  write_buffer_size: $WB
CONF
taskset -c "$CPUS" "$BIN" --config "$work/diskdb.conf" --port $port --dir "$work/diskdb" \
  --shards "$SHARDS" --block-cache-size "$CACHE" --loglevel warn & dpid=$!
for _ in $(seq 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
field() { awk -v k="$1" '{for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] }}'; }
info() { redis-cli -p $port info | tr -d '\r' | awk -F: -v k="$1" '$1 == k {print $2}'; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

echo "bench-bigdata: loading $N keys × $D bytes (block cache $CACHE, hot cache $HOT, write buffers $WB) …" >&2
out=$(taskset -c "$CPUS" "$LOAD" --port $port --workload load --keyspace "$N" --value-size "$D" --conns 8 --pipeline 64)
echo "bench-bigdata: loaded in $(echo "$out" | field seconds) s ($(echo "$out" | field ops/s) SET/s), DBSIZE $(redis-cli -p $port dbsize)" >&2
sleep 2
echo "data dir $(mb "$(du -sb "$work/diskdb" | cut -f1)") MB for $(mb $(( N * D ))) MB of values; memtables $(mb "$(info memtables_used)") MB"
printf "%-8s %10s %9s %9s %9s %10s %10s %9s %8s\n" dist ops/s p50 p99 p99.9 "blk-cache" "hot-cache" memtables "hit%"
for dist in uniform zipf; do
  echo "bench-bigdata: GET $dist for $SECS s …" >&2
  h0=$(info keyspace_hits); m0=$(info keyspace_misses)
  r=$(taskset -c "$CPUS" "$LOAD" --port $port --workload get --keyspace "$N" --distribution "$dist" --conns "$CONNS" --seconds "$SECS")
  h=$(( $(info keyspace_hits) - h0 )); m=$(( $(info keyspace_misses) - m0 ))
  printf "%-8s %10s %9s %9s %9s %9sM %9sM %8sM %8s\n" "$dist" "$(echo "$r" | field ops/s)" "$(echo "$r" | field p50)" \
    "$(echo "$r" | field p99)" "$(echo "$r" | field p99.9)" "$(mb "$(info block_cache_used)")" "$(mb "$(info hot_cache_used)")" \
    "$(mb "$(info memtables_used)")" "$(awk -v h=$h -v m=$m 'BEGIN {printf "%.1f", (h + m > 0 ? 100 * h / (h + m) : 0)}')"
done
echo "(N=$N D=$D conns=$CONNS pipeline=1 seconds=$SECS cpus=$CPUS shards=$SHARDS; block cache $CACHE, hot cache $HOT, write buffers $WB, lz4, random values)"
