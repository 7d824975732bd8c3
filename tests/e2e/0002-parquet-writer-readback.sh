#!/usr/bin/env bash
# 0002: every file the Parquet writer produces is read back, value for value,
# by two readers we did not write (DuckDB and hyparquet), with schema,
# annotations, footer statistics and page layout checked against the
# writer's own input (tests/unit/test_pq_writer.c --emit writes each
# scenario's file and its expected rows; tests/tools/pq_check.mjs compares).
# The unit-test binary's fault-injection cases (a stream failing at many
# byte positions must make the writer fail, never report success) run in
# the same invocation.
set -euo pipefail
: "${SLUICE:?set by ctest}" "${SL_SRC:?set by ctest}" "${SL_TMP:?set by ctest}"

bin="$(dirname "$SLUICE")/test_pq_writer"
tools="$SL_SRC/tests/tools"
out="$SL_TMP/e2e-0002"
if [ ! -x "$bin" ]; then
  echo "0002: $bin not built (cmake --build <dir> --target test_pq_writer)" >&2
  exit 1
fi
if ! command -v node >/dev/null || [ ! -d "$tools/node_modules/@duckdb/node-api" ] ||
   [ ! -d "$tools/node_modules/hyparquet-compressors" ]; then
  echo "0002: node and the test readers are needed: run scripts/deps.sh test" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
"$bin" --emit "$out"

n=0
fail=0
for f in "$out"/*.parquet; do
  n=$((n + 1))
  if ! node "$tools/pq_check.mjs" "$f" "${f%.parquet}.json"; then
    fail=$((fail + 1))
  fi
done
if [ "$n" -lt 10 ]; then
  echo "0002: only $n files were written; expected every scenario" >&2
  exit 1
fi
if [ "$fail" -ne 0 ]; then
  echo "0002: $fail of $n files do not read back as written" >&2
  exit 1
fi
echo "0002: $n files read back identically by DuckDB and hyparquet"
