# Sourced by .ci/run and scripts/check-fresh-clone.sh (and usable by hand before `npm ci`):
# native addons (better-sqlite3, zstd-napi) are compiled by node-gyp against the headers that ship
# with Node in <prefix>/include/node, instead of headers downloaded at install time, and
# prebuild-install does not try its download hosts first. Without this an offline `npm ci` fails
# with `prebuild-install ... ENOTFOUND` and then node-gyp failing to fetch the headers.
node_prefix="$(node -p 'require("node:path").resolve(process.execPath, "..", "..")')"
if [ -f "$node_prefix/include/node/node_version.h" ]; then
  export npm_config_nodedir="$node_prefix"
else
  echo "native-build-env: no Node headers in $node_prefix/include/node; node-gyp will try to download them" >&2
fi
export npm_config_build_from_source=true
