#!/usr/bin/env bash
# Builds a release tarball of DiskDB for this machine:
#
#   dist/diskdb-<version>-linux-<arch>.tar.gz         (+ .sha256)
#     diskdb-<version>-linux-<arch>/bin/diskdb        release binary, debug info stripped
#     diskdb-<version>-linux-<arch>/diskdb.conf       example config, every key documented
#     diskdb-<version>-linux-<arch>/diskdb.service    systemd unit
#     diskdb-<version>-linux-<arch>/LICENSE
#     diskdb-<version>-linux-<arch>/README.md
#
# <version> is Cargo.toml's package version (checked against `diskdb
# --version`), <arch> is `uname -m` (x86_64, aarch64). On x86_64 the binary
# targets x86-64-v2 + PCLMUL (.cargo/config.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "release: $*" >&2; exit 1; }

for f in Cargo.toml Cargo.lock diskdb.conf LICENSE README.md packaging/diskdb.service; do
  [ -f "$f" ] || die "missing $f (run from a complete DiskDB checkout)"
done
command -v tar >/dev/null || die "tar not found"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
if command -v strip >/dev/null; then STRIP=(strip --strip-debug)
elif command -v objcopy >/dev/null; then STRIP=(objcopy --strip-debug)
else die "neither strip nor objcopy found (install binutils)"; fi

version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
[ -n "$version" ] || die "cannot read the package version from Cargo.toml"
arch=$(uname -m)
[ -n "$arch" ] || die "uname -m printed nothing"
name="diskdb-$version-linux-$arch"
out="dist/$name.tar.gz"

echo "release: $name"
scripts/setup.sh build
. scripts/env.sh
echo "release: building (cache in $CARGO_TARGET_DIR)"
cargo build --release --locked --bin diskdb || die "cargo build failed"
bin="$CARGO_TARGET_DIR/release/diskdb"
[ -x "$bin" ] || die "no binary at $bin after the build"

reported=$("$bin" --version) || die "$bin --version failed"
[ "$reported" = "diskdb $version" ] ||
  die "$bin --version prints '$reported', expected 'diskdb $version' (stale build?)"

stage=$(mktemp -d)
trap 'rm -rf "$stage" "$out.tmp"' EXIT
root="$stage/$name"
echo "release: staging in $root"
mkdir -p "$root/bin"
"${STRIP[@]}" -o "$root/bin/diskdb" "$bin" || die "stripping $bin failed"
chmod 0755 "$root/bin/diskdb"
"$root/bin/diskdb" --version >/dev/null || die "the stripped binary does not run"
install -m 0644 diskdb.conf LICENSE README.md packaging/diskdb.service "$root/"

mkdir -p dist
echo "release: writing $out"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -czf "$out.tmp" "$name" ||
  die "tar failed"
mv "$out.tmp" "$out"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")

tar -tzvf "$out"
echo "release: $(du -h "$out" | cut -f1) $PWD/$out"
echo "release: sha256 $(cut -d' ' -f1 "$out.sha256") ($PWD/$out.sha256)"
