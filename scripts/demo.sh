#!/usr/bin/env bash
# make demo: generate the reference workload, convert it to Parquet, show
# what landed (sluice inspect) and query it with DuckDB.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
S=build/sluice
out=demo-out
count=${DEMO_COUNT:-500000}
rm -rf "$out" && mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. sluice gen: $count PlayEvents (the benchmark workload) as varint-delimited protobuf"
$S gen --count "$count" --streams 4 --output "$out/events.pb"
ls -l "$out/events.pb"

step "2. sluice convert: protobuf -> Parquet (zstd), one core"
$S convert --schema bench/play_event.proto --message bench.PlayEvent \
  --input-format pb-delimited --input "$out/events.pb" --output "$out/plays.parquet"

step "3. sluice inspect: schema, row groups, column chunks, statistics"
$S inspect "$out/plays.parquet" | head -n 80

step "4. DuckDB reads it back"
q() { (cd tests/tools && node duckq.mjs "$1"); }
f="$(pwd)/$out/plays.parquet"
q "SELECT log_id AS stream, count(*) AS plays, round(avg(play_seconds)) AS avg_seconds,
          count(DISTINCT mid) AS users, min(to_timestamp(event_time_ms/1000)) AS first_event
   FROM '$f' GROUP BY 1 ORDER BY 1"
q "SELECT mid, avid, platform, client.os AS os, tags, ext, recent_avids FROM '$f' LIMIT 5"

step "5. A bad record does not crash anything: it is reported with its offset"
$S gen --count 3 --seed 9 --output "$out/three.pb" 2>/dev/null
# 3 good events, one record whose field 1 claims 5 bytes but has 2, 3 more
{ cat "$out/three.pb"; printf '\x04\x0a\x05ab'; cat "$out/three.pb"; } > "$out/broken.pb"
$S convert --schema bench/play_event.proto --message bench.PlayEvent --input-format pb-delimited \
  --input "$out/broken.pb" --output "$out/broken.parquet" || true
$S convert --schema bench/play_event.proto --message bench.PlayEvent --input-format pb-delimited \
  --input "$out/broken.pb" --output "$out/broken.parquet" --bad-records dead-letter "$out/dead.jsonl"
echo "dead letters:"; cat "$out/dead.jsonl"
printf '\nAll output is in %s/.\n' "$out"
