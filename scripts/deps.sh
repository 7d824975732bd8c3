#!/usr/bin/env bash
# Install what sluice needs on Debian 12, only what is missing.
#   scripts/deps.sh build   compiler, CMake and the libraries sluice links
#   scripts/deps.sh demo    + node and DuckDB (to show what landed)
#   scripts/deps.sh test    + protoc, python3-protobuf, clang (fuzzing), promtool and
#                           prometheus, chromium, and the npm test tools (DuckDB,
#                           hyparquet, playwright-core)
# Runs apt-get only when a package is missing, so it is quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

build_pkgs=(build-essential cmake pkg-config libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev
            protobuf-compiler librdkafka-dev libyaml-dev liblua5.4-dev libcurl4-openssl-dev
            libmicrohttpd-dev)
test_pkgs=(python3 python3-protobuf clang libclang-rt-14-dev nodejs npm zstd lz4 kcat
           python3-snappy python3-zstandard python3-lz4 python3-crcmod python3-confluent-kafka
           prometheus chromium curl)

pkgs=("${build_pkgs[@]}")
case "$what" in
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" lz4 time util-linux) ;;
  demo) pkgs+=(nodejs npm) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs from another source (no dpkg record) is fine as long as node and npm run.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests run their own Prometheus server on a free loopback port; the
  # package's system service (port 9090, all interfaces) is not wanted.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

if [ "$what" != build ]; then
  if [ ! -d tests/tools/node_modules/@duckdb/node-api ] || [ ! -d tests/tools/node_modules/hyparquet ] ||
     [ ! -d tests/tools/node_modules/playwright-core ]; then
    echo "deps: npm install (tests/tools: @duckdb/node-api, hyparquet, playwright-core)"
    (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
