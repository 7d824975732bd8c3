#!/usr/bin/env bash
# 0052 run-audit: per (stream, hour) audit counts, exactly once through
# kill -9, checked against counts computed from the produced bytes; dead
# letters as Parquet read back by DuckDB; `sluice audit` against the lake.
#
# Input, over four hours of event time (2025-12-01T00..04), and a fifth:
#   - topic events (4 partitions): `sluice gen` PlayEvents of log_ids
#     001000 (stream s0, a filter), 001001 (stream s1, a Lua script that
#     drops some records and raises an error on others: dead letters) and
#     001002 (no stream: dead letters), plus values that are not protobuf,
#     produced by python-confluent-kafka with chosen Kafka timestamps;
#   - topic clicks (2 partitions): audit.Click messages from python, some
#     filtered, some without their event-time field ts_ms and some that are
#     not protobuf (dead letters counted in their Kafka timestamp's hour).
# Event-time disorder (60 s) stays under max_out_of_orderness (120 s), so
# no record of the first phase is late whatever the reading order.
# The pipeline is killed at fault points before the manifest (counts lost
# with the files) and right after an audit-log append (lines repeat), and
# with kill -9 at a random moment while events of a fifth hour arrive, then
# runs to idle. tests/tools/audit_check.py then checks every committed
# (stream, hour): _SUCCESS and the audit log against python-protobuf's
# counts, written against DuckDB's rows, dead letters (stream, hour, raw
# bytes) against DuckDB's reading of the Parquet dead letters.
# `sluice audit` exits 0, then 1 naming the stream and partition once a part
# file is removed. A second phase produces records of a committed hour:
# they count as late (or filtered) in that hour's audit line, and
# `sluice audit` still reconciles.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0052"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4 --topic clicks:2
START=1764547200000 # 2025-12-01T00:00:00Z

"$SLUICE" gen --count 12000 --streams 3 --seed 52 --start-ms $START --span-s 14400 \
  --disorder-s 60 --brokers "$BROKERS" --topic events --quiet
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/click.proto" <<'PROTO'
syntax = "proto3";
package audit;
message Click {
  string log_id = 1;
  optional int64 ts_ms = 2;
  int64 user = 3;
  string page = 4;
}
PROTO
protoc -I "$T" --python_out "$T" "$T/click.proto"
# clicks ($1: first event time, $2: span in ms, $3: per partition, $4: seed)
# in time order per partition with up to 30 s of disorder; 3% without
# ts_ms, 1% not protobuf; with $5 = bad, also values that are not protobuf
# on events at chosen hours
produce() {
  /usr/bin/python3 - "$BROKERS" "$T" "$@" <<'PY'
import random, sys
from confluent_kafka import Producer
sys.path.insert(0, sys.argv[2]); import click_pb2
brokers, start, span, n, seed = sys.argv[1], *map(int, sys.argv[3:7])
p, rnd, H = Producer({'bootstrap.servers': brokers, 'enable.idempotence': True}), random.Random(seed), 3600000
errors = []
def send(topic, part, value, ts, key=None):
    p.produce(topic, value=value, key=key, partition=part, timestamp=ts,
              on_delivery=lambda e, m: e and errors.append(e))
for part in (0, 1):
    for i in range(n):
        t = start + i * span // n + rnd.randrange(0, 9000)
        c = click_pb2.Click(log_id='c', user=rnd.randrange(1000), page=rnd.choice(['home', 'play', 'spam', 'search']))
        if rnd.random() >= 0.03: c.ts_ms = t - rnd.randrange(0, 30000)
        v = c.SerializeToString()
        if rnd.random() < 0.01: v = b'\xff\xff\xff\xff'  # not protobuf
        send('clicks', part, v, t, key=str(c.user).encode())
if sys.argv[7:] == ['bad']:
    for k, v in enumerate([b'not protobuf at all', b'\x1a\x05ab', b'\xff\xff\xff', b'\x08']):
        send('events', k % 4, v, start + (k % 3) * H + 1234 + k, key=b'k%d' % k)
p.flush(30)
if errors: sys.exit(f'produce: {errors}')
PY
}
produce $START 14400000 1500 52 bad
cat > "$T/check.lua" <<'LUA'
function transform(rec)
  if rec.play_seconds < 10 then return nil end
  if rec.play_seconds % 97 == 0 then error("rejected: play_seconds divisible by 97") end
  return rec
end
LUA
cat > "$T/p.yaml" <<YAML
pipeline: e2e52
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events, clicks] }
schemas: [./play_event.proto, ./click.proto]
defaults:
  event_time: { max_out_of_orderness: 120s, idle_timeout: 1h }
streams:
  - name: s0
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { filter: "play_seconds > 30 and platform != 'TV'", metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: s1
    route: { field: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { script: ./check.lua, metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: clicks
    route: { topic: clicks }
    message: audit.Click
    event_time: { field: ts_ms }
    etl: { filter: "page != 'spam'" }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML

# SIGKILL at fault points: after a part file is closed (before the
# manifest: the counts are lost with the files, the input is read again)
# and right after an audit-log append (the lines are written again at
# recovery); then kill -9 at a random moment while more events arrive
# (hour 04, at 600/s); then a run to idle
i=0
for p in closer.closed:5 commit.audit_logged:1; do
  (cd "$T" && SL_FAULT=$p exec "$SLUICE" run p.yaml) 2> "$T/run$i.log" &
  pid=$!
  for ((k = 0; k < 300; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  grep -q "fault point ${p%:*} reached" "$T/run$i.log" || { cat "$T/run$i.log"; fail "fault point $p not reached"; }
  i=$((i + 1))
done
(cd "$T" && exec "$SLUICE" run p.yaml) 2> "$T/run2.log" &
pid=$!
"$SLUICE" gen --count 6000 --streams 3 --seed 54 --start-ms $((START + 4 * 3600000)) --span-s 3600 \
  --disorder-s 60 --rate 500 --brokers "$BROKERS" --topic events --quiet &
gpid=$!
for ((k = 0; k < 300; k++)); do grep -q 'files=[1-9]' "$T/run2.log" && break; sleep 0.1; done
grep -q 'files=[1-9]' "$T/run2.log" || { cat "$T/run2.log"; fail "the pipeline published nothing while events arrived"; }
sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0.0, 1.5), 2))')"
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
wait $gpid || fail "gen"
# A restarted pipeline's watermark waits for a record from every partition
# (idle_timeout is 1h here): the last run gets some on all of them, an hour
# later, so the hours before commit whatever the kills interrupted.
"$SLUICE" gen --count 400 --streams 3 --seed 55 --start-ms $((START + 5 * 3600000)) --span-s 600 \
  --disorder-s 0 --brokers "$BROKERS" --topic events --quiet
produce $((START + 5 * 3600000)) 600000 20 56
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run9.log" || { cat "$T/run9.log"; fail "sluice run"; }

collect() {
  kcat -C -b "$BROKERS" -t events -o beginning -e -q -f '%p %o %T %S\n%s\n' > "$T/events.raw"
  kcat -C -b "$BROKERS" -t clicks -o beginning -e -q -f '%p %o %T %S\n%s\n' > "$T/clicks.raw"
  local s q=""
  for s in s0 s1 clicks; do
    q="$q${q:+ UNION ALL }SELECT '$s', k.d, k.h, count(*)::BIGINT FROM (SELECT regexp_extract(filename, 'dt=([^/]+)/hour=([0-9]+)/[^/]*\$', ['d', 'h']) AS k FROM read_parquet('$T/lake/$s/*/*/*.parquet', filename=true, hive_partitioning=false)) GROUP BY ALL"
  done
  (cd "$TOOLS" && node duckq.mjs --json "$q") > "$T/duck_lake.json"
  (cd "$TOOLS" && node duckq.mjs --json "SELECT stream, epoch_ms(hour), k.d, k.h, base64(raw) FROM (SELECT *, regexp_extract(filename, 'dt=([^/]+)/hour=([0-9]+)/[^/]*\$', ['d', 'h']) AS k FROM read_parquet('$T/lake/_dead_letter/*/*/*.parquet', filename=true, hive_partitioning=false))") > "$T/duck_dead.json"
}
left=$(find "$T/lake" -name '.sluice+*' | wc -l)
[ "$left" = 0 ] || fail "$left in-progress files left (the sweep walks the dead letters' hour directories too)"
collect
/usr/bin/python3 "$TOOLS/audit_check.py" "$T" e2e52
cp "$T/events.raw" "$T/events1.raw"; cp "$T/clicks.raw" "$T/clicks1.raw"

# sluice audit: everything reconciles; without a part file, the partition differs
(cd "$T" && "$SLUICE" audit p.yaml > audit1.out) || { cat "$T/audit1.out"; fail "sluice audit found differences"; }
grep -q " 0 differ, 0 not reconcilable" "$T/audit1.out" || { cat "$T/audit1.out"; fail "sluice audit summary"; }
part=$(ls "$T/lake/s1/dt=2025-12-01/hour=01/"*.parquet | head -1)
mv "$part" "$T/moved.parquet"
set +e; (cd "$T" && "$SLUICE" audit p.yaml > audit2.out); rc=$?; set -e
mv "$T/moved.parquet" "$part"
[ $rc = 1 ] || { cat "$T/audit2.out"; fail "sluice audit exited $rc without a part file, want 1"; }
grep -q "^DIFF s1 dt=2025-12-01/hour=01 (v1): written [0-9]* but 0 rows" "$T/audit2.out" ||
  { cat "$T/audit2.out"; fail "sluice audit does not name s1 dt=2025-12-01/hour=01"; }
[ "$(grep -c '^DIFF' "$T/audit2.out")" = 1 ] || { cat "$T/audit2.out"; fail "other partitions differ"; }

# second phase: records of committed hour 00 of s0 are late (or filtered)
cp "$T/lake/s0/dt=2025-12-01/hour=00/_SUCCESS" "$T/success.before"
"$SLUICE" gen --count 200 --streams 1 --first-stream 1000 --seed 53 --start-ms $START --span-s 600 \
  --disorder-s 0 --brokers "$BROKERS" --topic events --quiet
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run3.log" || { cat "$T/run3.log"; fail "second run"; }
collect
/usr/bin/python3 "$TOOLS/audit_check.py" "$T" e2e52 --early events1.raw,clicks1.raw
cmp -s "$T/success.before" "$T/lake/s0/dt=2025-12-01/hour=00/_SUCCESS" || fail "late records changed a _SUCCESS"
(cd "$T" && "$SLUICE" audit p.yaml --json > audit3.json) || { cat "$T/audit3.json"; fail "sluice audit after late records"; }
/usr/bin/python3 - "$T/audit3.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
p = {(x['stream'], x['partition']): x for x in j['partitions']}
s0 = p[('s0', 'dt=2025-12-01/hour=00')]
if not s0['ok'] or s0['late'] <= 0 or s0['lake_rows'] != s0['written']: sys.exit(f'FAIL: sluice audit --json: {s0}')
if j['summary']['differ'] or j['summary']['pipeline_differ'] or not j['pipeline_level']: sys.exit(f'FAIL: {j["summary"]}')
PY
echo "0052 ok"
