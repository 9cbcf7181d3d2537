#!/usr/bin/env bash
# A/B of two DiskDB builds (or settings) by server CPU per request: runs
# redis-benchmark against a fresh server of each build in turn, ROUNDS
# times alternating, and prints for each run ops/s, p99, the server's CPU
# time per request (user + system, all threads, from /proc/<pid>/stat) and
# its voluntary and involuntary context switches per request. On a noisy
# shared machine CPU per request separates two builds where ops/s alone
# does not (benches/RESULTS.md).
#
#   [SHARDS=n] [ROUNDS=3] [P=1] [N=200000] [PRE=test] [A_FLAGS=…] [B_FLAGS=…] \
#     scripts/bench-ab.sh BINARY_A BINARY_B test[,test…]
#
# PRE fills the server first (e.g. PRE=set before get). Values of 1 KB,
# -c 50, -r 100000, both servers under taskset -c 0-(nproc-1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { sed -n '2,14p' "$0"; exit 2; }
A=$1; B=$2; TESTS=$3
SHARDS=${SHARDS:-$(nproc)}; ROUNDS=${ROUNDS:-3}; P=${P:-1}; N=${N:-200000}
CPUS="0-$(( $(nproc) - 1 ))"; TICK=$(getconf CLK_TCK)
scripts/setup.sh test >/dev/null
work=$(mktemp -d); pid=
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status | awk '/^voluntary/ {v += $2} /^nonvoluntary/ {n += $2} END {print v, n}'; }
one() { # label binary flags test
  local port=$((20000 + RANDOM % 10000)) c0 c1 v0 n0 v1 n1 out
  rm -rf "$work/data"
  # shellcheck disable=SC2086
  taskset -c "$CPUS" "$2" --port $port --dir "$work/data" --shards "$SHARDS" --loglevel warn $3 & pid=$!
  for _ in $(seq 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
  [ -n "${PRE:-}" ] && redis-benchmark -p $port -c 50 -P 16 -d 1024 -r 100000 -n 200000 -t "$PRE" -q >/dev/null
  c0=$(cpu_ticks $pid); read -r v0 n0 < <(switches $pid)
  out=$(redis-benchmark -p $port -c 50 -P "$P" -d 1024 -r 100000 -n "$N" -t "$4" --csv | awk -F, 'NR > 1 {gsub(/"/, ""); print $2, $7}')
  c1=$(cpu_ticks $pid); read -r v1 n1 < <(switches $pid)
  kill $pid; wait $pid 2>/dev/null || true; pid=
  awk -v l="$1" -v t="$4" -v o="$out" -v c=$((c1 - c0)) -v k="$TICK" -v n="$N" -v v=$((v1 - v0)) -v nv=$((n1 - n0)) 'BEGIN {
    split(o, f, " "); printf "%-6s %-8s %10.0f %8.3f %10.1f %8.3f %8.3f\n", l, t, f[1], f[2], c / k * 1e6 / n, v / n, nv / n }'
}
printf "%-6s %-8s %10s %8s %10s %8s %8s\n" build test ops/s p99_ms cpu_us/req vcs/req ivcs/req
IFS=',' read -ra tests <<< "$TESTS"
for t in "${tests[@]}"; do
  for _ in $(seq "$ROUNDS"); do
    one A "$A" "${A_FLAGS:-}" "$t"
    one B "$B" "${B_FLAGS:-}" "$t"
  done
done
echo "(shards=$SHARDS P=$P requests=$N clients=50 size=1024 cpus=$CPUS; A=$A ${A_FLAGS:-}; B=$B ${B_FLAGS:-})"
