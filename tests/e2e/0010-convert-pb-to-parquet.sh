#!/usr/bin/env bash
# 0010 convert-pb-to-parquet (local): `sluice convert` end to end, checked by
# readers we did not write.
#
# Input: reference PlayEvents (bench/gen_events.py, python-protobuf) and the
# adversarial alltypes sets (tests/tools/pb_adversarial.py: every scalar
# type, nesting, oneofs, maps with every key type, proto2 defaults, hostile
# but valid wire input, and bad records). Expected rows come from protobuf's
# own parser (pb_expect.py), the expected Parquet schema from an independent
# Python reading of docs/formats.md (pq_schema_expect.py). Every file is
# read back by DuckDB and by hyparquet (pq_check.mjs): values, schema
# (types, repetition, logical types, field ids), key-value metadata and the
# footer statistics. Every codec, tiny pages and row groups, PLAIN only.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0010"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
DATA="$SL_SRC/tests/data"
check() { (cd "$TOOLS" && node pq_check.mjs "$@") || fail "pq_check $*"; }

# expect NAME PROTO MESSAGE INPUT [ADVERSARIAL]: reference rows + schema.
expect() {
  local notours=()
  [ -n "${5:-}" ] && notours=(--not-ours "$5.ours")
  "$PY" "$TOOLS/pb_expect.py" --proto "$2" --message "$3" --input "$4" \
    --out "$T/$1.rows.jsonl" --bad "$T/$1.bad" "${notours[@]}" 2>/dev/null
  "$PY" "$TOOLS/pq_schema_expect.py" --proto "$2" --message "$3" --rows "$T/$1.rows.jsonl" \
    --out "$T/$1.expected.json" --kv "sluice.message=$3"
}

# 1. PlayEvents, every codec, default and extreme layouts.
"$PY" "$SL_SRC/bench/gen_events.py" --count 3000 --seed 11 --out "$T/ev.pb" --jsonl "$T/ev.jsonl"
expect play "$DATA/play_event.proto" bench.PlayEvent "$T/ev.pb"
[ -s "$T/play.bad" ] && fail "python-protobuf rejected generated events"
conv() { "$SLUICE" convert --schema "$DATA/play_event.proto" --message bench.PlayEvent --quiet "$@"; }
for codec in zstd snappy gzip lz4 none; do
  conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/play-$codec.parquet" \
    --compression "$codec"
  check "$T/play-$codec.parquet" "$T/play.expected.json"
done
# zstd where it pays, UNCOMPRESSED chunks where it would save < 5% (the
# dense dictionary indexes of play_seconds, app_version, ...); int64 ids
# without a dictionary are DELTA_BINARY_PACKED, whose bit-packed random
# deltas zstd cannot shrink, strings without one DELTA_LENGTH_BYTE_ARRAY
# (both readers above read them back).
"$SLUICE" inspect --json "$T/play-zstd.parquet" | "$PY" -c '
import json, sys
cols = json.load(sys.stdin)["row_groups"][0]["columns"]
c = {x["path"]: x["codec"] for x in cols}
e = {x["path"]: x["encodings"] for x in cols}
assert c["buvid"] == "ZSTD" and c["trace_id"] == "ZSTD", c
assert "UNCOMPRESSED" in c.values(), c
for p in ("mid", "avid", "recent_avids.list.element"):
    assert "DELTA_BINARY_PACKED" in e[p] and c[p] == "UNCOMPRESSED", (p, e[p], c[p])
for p in ("buvid", "trace_id"):
    assert e[p] == ["DELTA_LENGTH_BYTE_ARRAY"], (p, e[p])' ||
  fail "per-column codec and encoding choice"
conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/play-small.parquet" \
  --page-size 1KiB --row-group-size 64KiB
check "$T/play-small.parquet" "$T/play.expected.json"
n_rg=$("$SLUICE" inspect --json "$T/play-small.parquet" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["row_groups"]))')
[ "$n_rg" -ge 3 ] || fail "64KiB row groups: only $n_rg row groups"
conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/play-plain.parquet" --no-dictionary
check "$T/play-plain.parquet" "$T/play.expected.json"
# The same events as JSON lines give the same file contents.
conv --input-format jsonl --input "$T/ev.jsonl" --output "$T/play-json.parquet"
check "$T/play-json.parquet" "$T/play.expected.json"
# A descriptor set works like the .proto; stdin works like a file.
protoc --include_imports --descriptor_set_out="$T/play.desc" -I"$DATA" play_event.proto
"$SLUICE" convert --schema "$T/play.desc" --message bench.PlayEvent --quiet \
  --input-format pb-delimited --input - --output "$T/play-stdin.parquet" < "$T/ev.pb"
check "$T/play-stdin.parquet" "$T/play.expected.json"

# 2. Adversarial protobuf (proto3 and proto2) through the CLI; bad records
#    are skipped, good ones must match protobuf's parser exactly.
for s in 3 2; do
  proto="$DATA/alltypes$s.proto"
  msg=$([ $s = 3 ] && echo t3.AllTypes || echo t2.AllTypes2)
  "$PY" "$TOOLS/pb_adversarial.py" --schema $s --proto "$proto" --out "$T/adv$s.pb"
  expect "adv$s" "$proto" "$msg" "$T/adv$s.pb" "$T/adv$s.pb"
  for codec in zstd none; do
    "$SLUICE" convert --schema "$proto" --message "$msg" --input-format pb-delimited \
      --input "$T/adv$s.pb" --output "$T/adv$s-$codec.parquet" --compression $codec \
      --bad-records skip 2> "$T/adv$s.log" || { cat "$T/adv$s.log"; fail "adv$s: convert failed"; }
    check "$T/adv$s-$codec.parquet" "$T/adv$s.expected.json"
  done
  nbad=$(wc -l < "$T/adv$s.bad")
  grep -q "; $nbad bad records skipped" "$T/adv$s.log" || fail "adv$s: expected $nbad skipped: $(tail -1 "$T/adv$s.log")"
done
echo "0010: all files read back equal by DuckDB and hyparquet"
