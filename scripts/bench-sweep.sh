#!/usr/bin/env bash
# Shard-count sweep: runs the same redis-benchmark workload against a fresh
# DiskDB for each --shards value in $SHARDS_LIST (same CPU set every time)
# and prints ops/s per shard count and test, plus the ratio to the first
# shard count. The shards run unpinned (the server default).
#
#   [SHARDS_LIST="1 2"] [CPUS=0-(nproc-1)] scripts/bench-sweep.sh \
#     [-n requests] [-c clients] [-d size] [-t tests] [-P "1 16"]
#
# On a bigger box: SHARDS_LIST="1 2 4 8" scripts/bench-sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS_LIST=${SHARDS_LIST:-"1 2"}; CPUS=${CPUS:-"0-$(( $(nproc) - 1 ))"}
N=100000; C=50; D=1024; TESTS="set,get"; PIPES="1 16"
. scripts/bench-lib.sh
bench_options "$@"
work=$(mktemp -d); dpid=
trap 'kill $dpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
csv() { awk -F',' 'NR>1 {gsub(/"/,"",$1); gsub(/"/,"",$2); gsub(/ /,"_",$1); print $1, $2}'; }
declare -A ops
for s in $SHARDS_LIST; do
  echo "bench-sweep: --shards $s …" >&2
  port=$((20000 + RANDOM % 10000))
  taskset -c "$CPUS" "$BIN" --port $port --dir "$work/diskdb-$s" --shards "$s" --loglevel warn & dpid=$!
  for _ in $(seq 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
  for P in $PIPES; do
    while read -r test v; do ops["$test $P $s"]=$v; done < <(
      redis-benchmark -p $port -n "$N" -c "$C" -d "$D" -P "$P" -t "$TESTS" -r 100000 --csv 2>/dev/null | csv)
  done
  kill $dpid; wait $dpid 2>/dev/null || true; dpid=
  rm -rf "$work/diskdb-$s"
done
first=${SHARDS_LIST%% *}
printf "%-8s %4s" test P; for s in $SHARDS_LIST; do printf " %11s" "shards=$s"; done; printf "   (ratio to shards=%s)\n" "$first"
tests=$(printf '%s\n' "${!ops[@]}" | awk '{print $1}' | sort -u)
for P in $PIPES; do
  for t in $tests; do
    printf "%-8s %4s" "$t" "$P"
    for s in $SHARDS_LIST; do printf " %11.0f" "${ops["$t $P $s"]:-0}"; done
    printf "  "
    for s in $SHARDS_LIST; do printf " %5.2f" "$(awk -v a="${ops["$t $P $s"]:-0}" -v b="${ops["$t $P $first"]:-0}" 'BEGIN {print (b > 0 ? a / b : 0)}')"; done
    echo
  done
done
echo "(requests=$N clients=$C size=$D -r 100000 cpus=$CPUS; DiskDB defaults, sync everysec; redis-benchmark on the same CPUs)"
