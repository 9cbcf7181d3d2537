#!/usr/bin/env bash
# Side-by-side redis-benchmark: DiskDB vs redis-server (appendonly yes,
# appendfsync everysec), same machine, same CPU set, one run (the servers
# are benchmarked one after the other, never at once). Prints a table
# of ops/s and the DiskDB/Redis ratio for each command and pipeline depth.
#
#   [SYNC=always|everysec] [SHARDS=n] [ROUNDS=n] scripts/bench.sh [-n requests] [-c clients] [-d size] [-t tests] [-P "1 16"]
#
# After the -t tests, the custom commands in $CUSTOM (';'-separated, default
# "ZRANGE myzset 0 9", which reads the set the zadd test filled) run too.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${SHARDS:-$(nproc)}; SYNC=${SYNC:-everysec}; N=100000; C=50; D=1024; TESTS="set,get,incr"; PIPES="1 16"; CPUS="0-$(( $(nproc) - 1 ))"
. scripts/bench-lib.sh
bench_options "$@"
work=$(mktemp -d); trap 'kill $dpid $rpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
dport=$((20000 + RANDOM % 10000)); rport=$((dport + 1))
taskset -c "$CPUS" "$BIN" --port $dport --dir "$work/diskdb" --shards "$SHARDS" --sync "$SYNC" --loglevel warn & dpid=$!
taskset -c "$CPUS" redis-server --port $rport --dir "$work" --save "" --appendonly yes --appendfsync "$SYNC" --logfile "$work/redis.log" & rpid=$!
for p in $dport $rport; do
  for _ in $(seq 100); do redis-cli -p $p ping >/dev/null 2>&1 && break; sleep 0.1; done
done
CUSTOM=${CUSTOM-"ZRANGE myzset 0 9"}
ROUNDS=${ROUNDS:-1}
# "ops/s p99_ms" of one test on one server
one() { # port pipe test-or-command…
  local port=$1 pipe=$2; shift 2
  if [ $# -eq 1 ]; then
    redis-benchmark -p "$port" -n "$N" -c "$C" -d "$D" -P "$pipe" -t "$1" -r 100000 --csv 2>/dev/null
  else
    redis-benchmark -p "$port" -n "$N" -c "$C" -P "$pipe" --csv "$@" 2>/dev/null
  fi | awk -F',' 'NR>1 {gsub(/"/,""); print $2, $7}'
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
tests=()
IFS=',' read -ra ts <<< "$TESTS"; tests+=("${ts[@]}")
IFS=';' read -ra cmds <<< "$CUSTOM"; for c in "${cmds[@]}"; do [ -n "$c" ] && tests+=("$c"); done
printf "%-18s %3s %10s %10s %6s %9s %9s %6s\n" test P diskdb redis ratio "p99 dd" "p99 redis" ratio
for P in $PIPES; do
  redis-cli -p $dport flushall >/dev/null; redis-cli -p $rport flushall >/dev/null
  for t in "${tests[@]}"; do
    # one server at a time (run at once, each would get about half of the
    # CPUs), alternating per test so both see the same machine load
    : > "$work/d"; : > "$work/r"
    for _ in $(seq "$ROUNDS"); do
      # shellcheck disable=SC2086
      one $dport "$P" $t >> "$work/d"
      # shellcheck disable=SC2086
      one $rport "$P" $t >> "$work/r"
    done
    dops=$(cut -d' ' -f1 "$work/d" | median); rops=$(cut -d' ' -f1 "$work/r" | median)
    dp99=$(cut -d' ' -f2 "$work/d" | median); rp99=$(cut -d' ' -f2 "$work/r" | median)
    awk -v t="${t// /_}" -v P="$P" -v d="$dops" -v r="$rops" -v dp="$dp99" -v rp="$rp99" 'BEGIN {
      printf "%-18s %3s %10.0f %10.0f %6.2f %9.3f %9.3f %6.2f\n", substr(t, 1, 18), P, d, r, (r > 0 ? d / r : 0), dp, rp, (rp > 0 ? dp / rp : 0) }'
  done
done
echo "(requests=$N clients=$C size=$D cpus=$CPUS shards=$SHARDS rounds=$ROUNDS (medians); DiskDB sync=$SYNC, redis appendonly yes appendfsync $SYNC; p99 in ms)"
