#!/usr/bin/env bash
# 0030 run-pipeline: `sluice run` end to end against dev-kafka.
#
# Events from `sluice gen` go into a 4-partition topic; a pipeline with three
# streams (routed by a field, by a header, and one with a filter and a
# projection) writes hourly Parquet partitions with metadata columns, with
# checkpoints every second and two workers, until idle. What must hold,
# checked by readers we did not write:
#   - per stream and per dt/hour partition, DuckDB counts exactly the rows
#     protobuf's own parser (python3-protobuf, run_expect.py) expects from
#     the same events, with the filter stated independently in Python;
#   - (_partition, _offset) is unique (no duplicates), and every row sits in
#     the directory of its event hour;
#   - no in-progress (hidden) file is left, and the projected stream has only
#     its columns plus the metadata;
#   - records of no stream, and values kcat produced that are not protobuf,
#     are dead-lettered with their bytes, reason and position.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0030"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4

N=20000
# 4 log_ids: 001000 (field route), 001001 (header route), 001002 (filtered,
# projected), 001003 (no stream: dead-lettered)
"$SLUICE" gen --count $N --streams 4 --seed 7 --span-s 10800 --output "$T/ev.pb" --quiet
"$SLUICE" gen --count $N --streams 4 --seed 7 --span-s 10800 --brokers "$BROKERS" --topic events --quiet
# three values that are not protobuf, produced by kcat into partition 0
printf 'not protobuf at all\n\x1a\x05ab\n\x08\n' | kcat -P -b "$BROKERS" -t events -p 0

cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/p.yaml" <<YAML
pipeline: e2e30
state_dir: ./state
checkpoint: { interval: 1s }
workers: 2
source:
  kind: kafka
  brokers: $BROKERS
  topics: [events]
schemas: [./play_event.proto]
streams:
  - name: play
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms, unit: ms }
    etl:
      metadata: [topic, partition, offset]
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}", format: parquet, compression: zstd }
  - name: byheader
    route: { header: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms, unit: ms }
    etl:
      metadata: [partition, offset]
    outputs:
      - { kind: files, path: "./lake/{stream}/platform={platform}/dt={date}/hour={hour}", compression: snappy }
  - name: filtered
    route: { field: log_id, equals: "001002" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms, unit: ms }
    etl:
      filter: "play_seconds > 30 and platform != 'TV'"
      columns: [mid, play_seconds, platform, event_time_ms]
      metadata: [partition, offset, kafka_timestamp]
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" }
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" || { cat "$T/run.log"; fail "sluice run failed"; }

/usr/bin/python3 "$TOOLS/run_expect.py" --proto "$T/play_event.proto" --input "$T/ev.pb" \
  --stream play=001000 --stream byheader=001001 \
  --stream "filtered=001002@m.play_seconds > 30 and m.platform != 4" > "$T/expect.json"
grep -q "TV = 4;" "$SL_SRC/tests/data/play_event.proto" || fail "play_event.proto: TV is not 4 any more"
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play byheader filtered) > "$T/got.json"
/usr/bin/python3 - "$T/expect.json" "$T/got.json" <<'PY'
import json, sys
exp, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
for s, e in exp.items():
    g = got[s]
    if e['rows'] == 0: bad.append(f'{s}: test data has no rows')
    if g['rows'] != e['rows']: bad.append(f"{s}: {g['rows']} rows in the lake, protobuf expects {e['rows']}")
    if g['distinct'] != g['rows']: bad.append(f"{s}: {g['rows'] - g['distinct']} duplicate (_partition, _offset)")
    if g['misplaced']: bad.append(f"{s}: {g['misplaced']} rows outside their event hour's directory")
    if g['partitions'] != e['partitions']: bad.append(f"{s}: partitions {g['partitions']} != {e['partitions']}")
if bad: sys.exit('FAIL: ' + '\n'.join(bad))
print('ok:', {s: g['rows'] for s, g in got.items()})
PY
# projection: only the projected columns plus metadata
cols=$(cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll(\"DESCRIBE SELECT * FROM read_parquet('$T/lake/filtered/**/*.parquet', hive_partitioning=false)\");
console.log(r.getRowsJson().map(x => x[0]).join(','));")
[ "$cols" = "mid,play_seconds,platform,event_time_ms,_partition,_offset,_kafka_timestamp" ] || fail "projected columns: $cols"
# {platform} in the path: every row sits under its own platform's directory
wrong=$(cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll(\"SELECT count(*) FILTER (WHERE regexp_extract(filename, 'platform=([A-Z_]+)/', 1) <> platform), count(DISTINCT platform) FROM read_parquet('$T/lake/byheader/**/*.parquet', filename=true, hive_partitioning=false)\");
console.log(r.getRowsJson()[0].join(' '));")
[ "$wrong" = "0 4" ] || [ "$wrong" = "0 5" ] || fail "byheader: rows under another platform's directory, or too few platforms: $wrong"
# nothing hidden left, manifests present
left=$(find "$T/lake" -name '.sluice+*' | wc -l)
[ "$left" = 0 ] || fail "$left in-progress files left in the lake"
ls "$T/state/manifests/"*.manifest >/dev/null || fail "no manifest"
# unrouted records (log_id 001003) are dead-lettered with their position,
# read back by DuckDB from the Parquet dead letters (dt=/hour= of their
# Kafka timestamp, since they have no stream to give them an event time)
nexp=$(/usr/bin/python3 "$TOOLS/run_expect.py" --proto "$T/play_event.proto" --input "$T/ev.pb" --stream x=001003 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["x"]["rows"])')
(cd "$TOOLS" && node duckq.mjs --json "SELECT stream, topic, partition, \"offset\", record, kind, reason, base64(raw),
  epoch_ms(hour), epoch_ms(kafka_timestamp), regexp_extract(filename, 'dt=([0-9-]+)/hour=([0-9]+)/[^/]*\$', ['d', 'h'])
  FROM read_parquet('$T/lake/_dead_letter/*/*/*.parquet', filename=true, hive_partitioning=false)") > "$T/dead.json"
/usr/bin/python3 - "$T/dead.json" "$nexp" <<'PY' || fail "dead letters are not what was produced"
import base64, datetime, json, sys
rows, nexp = json.load(open(sys.argv[1])), int(sys.argv[2])
if len(rows) != nexp + 3: sys.exit(f'{len(rows)} dead letters, expected {nexp} unrouted records + 3 undecodable')
for st, topic, part, off, rec, kind, reason, raw, hour, kts, d in rows:
    assert st is None and topic == 'events' and int(off) >= 0 and rec == 0 and kind == 'record', rows[0]
    assert int(hour) == int(kts) // 3600000 * 3600000, (hour, kts)   # the Kafka timestamp's hour
    h = datetime.datetime.fromtimestamp(int(hour) / 1000, datetime.timezone.utc)
    assert (d['d'], d['h']) == (h.strftime('%Y-%m-%d'), h.strftime('%H')), (d, h)  # its directory
bad = [r for r in rows if r[6].startswith('decode')]
raw = sorted(base64.b64decode(r[7]) for r in bad)
want = sorted([b"not protobuf at all", b"\x1a\x05ab", b"\x08"])
assert raw == want, (raw, want)
assert all(r[2] == 0 for r in bad), bad
assert sum('no stream' in r[6] for r in rows) == nexp
PY
echo "0030 ok"
