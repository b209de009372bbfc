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

npm run test:unit

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
