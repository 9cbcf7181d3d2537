# Sourced by the bench scripts (from the repository's top): installs or
# checks the test dependencies (redis-server, redis-benchmark), builds the
# release server and the load harness once, and sets BIN (the server; BIN=
# from the caller wins, to compare builds) and LOAD (benches/load.rs).
scripts/setup.sh test >/dev/null
. scripts/env.sh
cargo build --release --bin diskdb --bench load 2>&1 | tail -1
BIN="${BIN:-$CARGO_TARGET_DIR/release/diskdb}"
# shellcheck disable=SC2010  # cargo names the bench binary load-<hash>, next to load-<hash>.d
LOAD=$(ls -t "$CARGO_TARGET_DIR"/release/deps/load-* | grep -v '\.d$' | head -1)
export BIN LOAD

# The redis-benchmark options of bench.sh and bench-sweep.sh:
# -n requests, -c clients, -d value size, -t tests, -P "pipeline depths".
bench_options() {
  local o OPTIND=1
  while getopts "n:c:d:t:P:" o; do
    case $o in n) N=$OPTARG;; c) C=$OPTARG;; d) D=$OPTARG;; t) TESTS=$OPTARG;; P) PIPES=$OPTARG;; *) exit 2;; esac
  done
}
