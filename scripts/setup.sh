#!/usr/bin/env bash
# Installs what building and testing DiskDB needs on Debian/Ubuntu, only if
# missing: libclang (RocksDB bindings), a C++ compiler, redis-server and
# redis-tools (comparison tests, redis-cli, redis-benchmark), Go and a Python
# venv for the client test suites.
set -euo pipefail

need_build=(libclang-dev clang g++ make)
need_test=(redis-server redis-tools golang-go python3-venv)
mode=${1:-test}   # "build" installs only what the build needs

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install Rust first: https://rustup.rs" >&2
  exit 1
fi

pkgs=("${need_build[@]}")
[ "$mode" = build ] || pkgs+=("${need_test[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing packages ${missing[*]} and no apt-get; install them by hand" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "setup: dependencies present (${pkgs[*]})"
