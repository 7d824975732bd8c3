#!/usr/bin/env bash
# 0003 parquet-reader-duckdb (local, no broker): our Parquet reader reads
# what DuckDB reads, and `sluice inspect` reports what DuckDB reports.
#
# 1. DuckDB writes files (tests/tools/make_duckdb_files.mjs): nested lists,
#    structs and maps with nulls at every level, every integer width signed
#    and unsigned, floats with NaN/Infinity, strings, blobs, timestamps
#    (ms/us/ns, UTC or not), dates, dictionary and plain columns; every codec
#    (uncompressed, snappy, gzip, zstd, lz4_raw) x PARQUET_VERSION V1 and V2
#    (data page v2, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
#    BYTE_STREAM_SPLIT, RLE booleans); many row groups; one big row group of
#    many pages; an empty file; all-null columns. It also dumps its own
#    reading of each file (tests/tools/pq_rows.mjs) as canonical rows.
# 2. `sluice inspect --rows all` (our reader + record assembly) must give the
#    same rows, compared value by value by tests/tools/rowcmp.py.
# 3. `sluice inspect --json` must agree with DuckDB's parquet_metadata() on
#    row counts, sizes, offsets, codecs, encodings, null counts and min/max
#    (tests/tools/check_inspect.mjs).
# 4. Files from our own writer (sluice gen | sluice convert) go through the
#    same two comparisons against DuckDB.
# 5. The command line: text report, --rows N, usage errors (exit 2), and a
#    missing, truncated or non-Parquet file (exit 1, message naming it).
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
TOOLS="$SL_SRC/tests/tools"
T="$SL_TMP/e2e-0003"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

node "$TOOLS/make_duckdb_files.mjs" "$T/duck"

check_file() { # FILE.parquet EXPECTED.jsonl LABEL
  local f=$1 want=$2 label=$3
  "$SLUICE" inspect "$f" --rows all > "$f.sluice.jsonl" || fail "$label: inspect --rows failed"
  "$PY" "$TOOLS/rowcmp.py" "$want" "$f.sluice.jsonl" --label "$label" || fail "$label: rows differ"
  "$SLUICE" inspect "$f" --json > "$f.inspect.json" || fail "$label: inspect --json failed"
  node "$TOOLS/check_inspect.mjs" "$f" "$f.inspect.json" || fail "$label: metadata differs"
  "$SLUICE" inspect "$f" > "$f.txt" || fail "$label: inspect failed"
  grep -q '^schema:' "$f.txt" || fail "$label: text report has no schema"
}

n=0
while read -r name; do
  [ -n "$name" ] || continue
  check_file "$T/duck/$name.parquet" "$T/duck/$name.duckdb.jsonl" "$name"
  n=$((n + 1))
done < "$T/duck/files.txt"
[ "$n" -ge 15 ] || fail "only $n DuckDB files were checked"

# Our writer: the bench workload through gen and convert, every codec.
"$SLUICE" gen --count 3000 --seed 3 --output "$T/events.pb" --quiet
for codec in none snappy gzip zstd lz4; do
  out="$T/ours-$codec.parquet"
  "$SLUICE" convert --schema "$SL_SRC/bench/play_event.proto" --message bench.PlayEvent \
    --input-format pb-delimited --input "$T/events.pb" --output "$out" --compression "$codec" \
    --row-group-size 64KiB --page-size 4KiB --quiet
  node "$TOOLS/pq_rows.mjs" "$out" > "$out.duckdb.jsonl"
  check_file "$out" "$out.duckdb.jsonl" "sluice-writer-$codec"
done

# Command line.
f="$T/duck/all_v2_zstd.parquet"
[ "$("$SLUICE" inspect "$f" --rows 3 | wc -l)" -eq 3 ] || fail "--rows 3 did not print 3 rows"
[ "$("$SLUICE" inspect "$f" --rows 0 | wc -l)" -eq 0 ] || fail "--rows 0 printed rows"
"$SLUICE" inspect --help | grep -q -- '--rows' || fail "--help does not describe --rows"
set +e
"$SLUICE" inspect > /dev/null 2>&1; [ $? -eq 2 ] || fail "no file: want exit 2"
"$SLUICE" inspect "$f" --rows x > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad --rows: want exit 2"
"$SLUICE" inspect "$f" --bogus > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: want exit 2"
"$SLUICE" inspect "$T/missing.parquet" 2> "$T/err1"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.parquet" "$T/err1" || fail "missing file: exit $rc, $(cat "$T/err1")"
head -c 5000 "$f" > "$T/trunc.parquet"
"$SLUICE" inspect "$T/trunc.parquet" 2> "$T/err2"; rc=$?
[ $rc -eq 1 ] && grep -q "trunc.parquet" "$T/err2" || fail "truncated file: exit $rc, $(cat "$T/err2")"
echo "not parquet at all" > "$T/text.parquet"
"$SLUICE" inspect "$T/text.parquet" --json 2> "$T/err3"; rc=$?
[ $rc -eq 1 ] && grep -q "PAR1" "$T/err3" || fail "text file: exit $rc, $(cat "$T/err3")"
set -e
echo "0003: $n DuckDB files and 5 sluice files read as DuckDB reads them"
