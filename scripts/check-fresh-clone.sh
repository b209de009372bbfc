#!/usr/bin/env bash
# A fresh clone works for a new user: clone this checkout's HEAD into a temp folder with an empty
# HOME (no npmrc, no npm cache) and no ../shared beside it, install it as README says, run the unit
# tier there, then build the release tarball (`npm run release`) and install it into a temp prefix
# exactly as README's CI recipes do, and run the installed command.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-fresh-clone-XXXXXX")"
trap 'rm -rf "$work"' EXIT

git clone -q "$src" "$work/portcullis"
export HOME="$work/home"
mkdir -p "$HOME"
unset PORTCULLIS_SHARED_DATA PORTCULLIS_DB
cd "$work/portcullis"
source scripts/native-build-env.sh

start=$(date +%s)
npm ci --no-audit --no-fund > "$work/npm-ci.log" 2>&1 || { cat "$work/npm-ci.log"; exit 1; }
echo "fresh clone: npm ci took $(( $(date +%s) - start )) s (empty npm cache, native addons built from source)"

# The unit tier needs no root, no built test images (a clone has none) and none of the oracle tools
# (dpkg-query, rpm, ruby, go, objcopy, zstd, skopeo): where this runs as root, run it as `nobody`
# with a PATH that holds only what Node, npm and the tests' plain file operations need, so the
# tests that compare with those tools skip and say why (the whole suite later runs them all).
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
  unit_bin="$work/unit-bin"
  mkdir -p "$unit_bin"
  for tool in node npm npx sh bash env git tar gzip mkfifo cat sleep echo printf mkdir rm ls cp mv chmod head tail sort tr; do ln -s "$(command -v "$tool")" "$unit_bin/$tool"; done
  chmod 755 "$work"
  chown -R nobody "$HOME"
  unit_tmp="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-unit-XXXXXX")"
  chown nobody "$unit_tmp"
  runuser -u nobody -- env -i HOME="$HOME" PATH="$unit_bin" TMPDIR="$unit_tmp" npm run test:unit
  rm -rf "$unit_tmp"
  echo "fresh clone: unit tier passed as nobody, without the oracle tools"
else
  npm run test:unit
fi

npm run release
tarball="$(ls release/portcullis-*.tgz)"
npm install -g --prefix "$work/prefix" "./$tarball" > "$work/npm-install.log" 2>&1 || { cat "$work/npm-install.log"; exit 1; }
installed="$work/prefix/bin/portcullis"
"$installed" --version
got="$(printf '1.2.0\t1.10.0\n' | "$installed" version compare --scheme npm)"
if [ "$got" != "-1" ]; then
  echo "fresh clone: the installed release answered '$got' to 'version compare' (expected -1)" >&2
  exit 1
fi
echo "fresh clone: unit tier passed, release tarball $tarball installs and runs"
