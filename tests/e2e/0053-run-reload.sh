#!/usr/bin/env bash
# 0053 run-reload: hot reload while data flows (reload.watch).
#
# A pipeline with two streams runs while `sluice gen` produces into a
# 4-partition topic. Its files are changed under it, each change replacing
# the file by rename as editors do:
#   1. the pipeline file: stream a's filter changes, a stream c is added;
#   2. the schema: PlayEvent gains a field (region = 99); then records that
#      carry it are produced (python-protobuf builds them, kcat sends them);
#   3. a broken pipeline file (an unknown key): rejected, the running
#      configuration stays;
#   4. the pipeline file: stream c is removed;
#   5. workers 2 -> 1: the Kafka clients restart inside the process.
# What must hold, checked against kcat, python-protobuf and DuckDB:
#   - STATE/reloads.jsonl records 4 applied reloads and 1 rejected one, the
#     rejection names the file, line and key; the log (JSON lines, every line
#     parsed by Python's json) says the same;
#   - every stream holds exactly the records that the configuration in force
#     at their position routes and keeps (boundaries: the positions the
#     reload record gives), each exactly once: a change takes effect at one
#     checkpoint boundary, nothing is lost or duplicated;
#   - the new field is a column of stream b's files written after the schema
#     change, holding the produced values, and absent from earlier files;
#   - the removed stream's hour got its _SUCCESS at the reload.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0053"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4

START=1764547200000 # 2025-12-01T00:00:00Z
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
conf() { # conf FILTER WITH_C [EXTRA_KEY]: write p.yaml by rename
  {
    cat <<YAML
pipeline: e2e53
state_dir: ./state
checkpoint: { interval: 1s }
workers: ${WORKERS:-2}
reload: { watch: true }
log: { format: json }
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
defaults: { event_time: { max_out_of_orderness: 1h } }
streams:
  - name: a
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { filter: "$1", metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: b
    route: { field: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset]${3:-} }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
    [ "$2" = 1 ] && cat <<YAML
  - name: c
    route: { field: log_id, equals: "001002" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
    echo "dead_letter: { kind: files, path: ./lake/_dead_letter }"
  } > "$T/p.yaml.new"
  mv "$T/p.yaml.new" "$T/p.yaml"
}
applied() { [ "$(grep -c '"result":"applied"' "$T/state/reloads.jsonl" 2>/dev/null)" = "$1" ]; }
rejected() { [ "$(grep -c '"result":"rejected"' "$T/state/reloads.jsonl" 2>/dev/null)" = "$1" ]; }
wait_for() { # wait_for COMMAND...: up to 30 s
  for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
  return 1
}

conf "play_seconds > 30" 0
# 60000 events over 2 hours of event time, at 4000/s: 15 s of data while the files change
"$SLUICE" gen --count 60000 --streams 4 --seed 11 --start-ms $START --span-s 7200 --disorder-s 0 \
  --rate 4000 --brokers "$BROKERS" --topic events --quiet &
GEN=$!
(cd "$T" && exec "$SLUICE" run p.yaml --stop-when-idle 4s) 2> "$T/run.log" &
RUN=$!
trap 'kill $RUN $GEN 2>/dev/null; devkafka_stop' EXIT
sleep 3

# 1. a new filter for a, a new stream c
conf "play_seconds > 60" 1
wait_for applied 1 || { cat "$T/run.log"; fail "reload 1 not applied"; }
# 2. the schema gains a field; then events that carry it
sed -i 's/^message PlayEvent {/message PlayEvent {\n  string region = 99;/' "$T/play_event.proto"
grep -q "region = 99" "$T/play_event.proto" || fail "could not edit the schema"
wait_for applied 2 || { cat "$T/run.log"; fail "reload 2 (schema) not applied"; }
mkdir -p "$T/region"
/usr/bin/python3 - "$T/play_event.proto" "$T/region" $START <<'PY'
import os, subprocess, sys, importlib
proto, out, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
subprocess.run(['protoc', '-I', os.path.dirname(proto), '--python_out', out, proto], check=True)
sys.path.insert(0, out)
pb = importlib.import_module('play_event_pb2')
for i in range(300):
    m = pb.PlayEvent(log_id='001001', mid=900000 + i, play_seconds=i, event_time_ms=start + 3600000 + i,
                     region='eu-%d' % (i % 3))
    open(os.path.join(out, 'r%03d.pb' % i), 'wb').write(m.SerializeToString())
PY
(cd "$T/region" && kcat -P -b "$BROKERS" -t events r*.pb)
# 3. a broken file: rejected, the running configuration stays
conf "play_seconds > 60" 1 ", filterr: x"
wait_for rejected 1 || { cat "$T/run.log"; fail "the broken file was not rejected"; }
# 4. c removed
conf "play_seconds > 60" 0
wait_for applied 3 || { cat "$T/run.log"; fail "reload 3 not applied"; }
# 5. one worker: a new attempt with new Kafka clients, in the same process
WORKERS=1 conf "play_seconds > 60" 0
wait_for applied 4 || { cat "$T/run.log"; fail "reload 4 (workers) not applied"; }
wait $GEN
wait $RUN || { cat "$T/run.log"; fail "sluice run failed"; }
trap devkafka_stop EXIT

# the log: JSON lines, the reloads and the rejection said plainly
/usr/bin/python3 - "$T/run.log" <<'PY' || fail "log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
msgs = [l['msg'] for l in lines]
assert all(l['pipeline'] == 'e2e53' and l['level'] in ('debug', 'info', 'warn', 'error') for l in lines)
assert msgs.count('configuration reloaded') == 4, msgs
assert [l['how'] for l in lines if l['msg'] == 'configuration reloaded'] == ['live'] * 3 + ['restart']
rej = [l for l in lines if l['msg'].startswith('configuration rejected')]
assert len(rej) == 1 and 'p.yaml:' in rej[0]['error'] and 'filterr' in rej[0]['error'], rej
PY
grep '"result":"rejected"' "$T/state/reloads.jsonl" | grep -q 'p.yaml:[0-9]*:[0-9]*: .*filterr' ||
  fail "the rejection does not name the file, line and key: $(cat "$T/state/reloads.jsonl")"

# every stream holds exactly what the configuration in force at each record keeps
kcat -C -b "$BROKERS" -t events -e -q -f '%p %o %T %K %k %S %h\n%s\n' > "$T/topic.dump"
(cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const out = {};
for (const s of ['a', 'b', 'c']) {
  const r = await c.runAndReadAll(\"SELECT _partition, _offset FROM read_parquet('$T/lake/\" + s + \"/*/*/*.parquet', union_by_name=true)\");
  out[s] = r.getRowsJson().map(x => [Number(x[0]), Number(x[1])]);
}
console.log(JSON.stringify(out));") > "$T/lake.json"
/usr/bin/python3 "$TOOLS/reload_expect.py" --proto "$T/play_event.proto" --tmp "$T" --kcat "$T/topic.dump" \
  --reloads "$T/state/reloads.jsonl" --lake "$T/lake.json" \
  --phase 'a=001000@m.play_seconds > 30,b=001001' \
  --phase 'a=001000@m.play_seconds > 60,b=001001,c=001002' \
  --phase 'a=001000@m.play_seconds > 60,b=001001,c=001002' \
  --phase 'a=001000@m.play_seconds > 60,b=001001' \
  --phase 'a=001000@m.play_seconds > 60,b=001001' || fail "the lake does not match the configurations in force"

# the new field: a column of b's files after the schema change, with the produced values
(cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const q = async s => (await c.runAndReadAll(s)).getRowsJson();
const src = \"read_parquet('$T/lake/b/*/*/*.parquet', union_by_name=true)\";
const [[n, d]] = await q('SELECT count(*)::INT, count(DISTINCT region)::INT FROM ' + src + \" WHERE region LIKE 'eu-%'\");
const with_ = await q(\"SELECT count(*)::INT FROM (SELECT DISTINCT file_name FROM parquet_schema('$T/lake/b/*/*/*.parquet') WHERE name = 'region')\");
const all = await q(\"SELECT count(DISTINCT file_name)::INT FROM parquet_schema('$T/lake/b/*/*/*.parquet')\");
console.log(n, d, with_[0][0], all[0][0]);") > "$T/region.out"
read -r n d with all < "$T/region.out"
[ "$n" = 300 ] && [ "$d" = 3 ] || fail "stream b: $n rows with the new field (3 values: $d), expected 300"
[ "$with" -ge 1 ] && [ "$with" -lt "$all" ] ||
  fail "stream b: $with of $all files have the new column (expected the later files only)"

# c was removed at reload 3: its open hours were committed then
ls "$T"/lake/c/*/*/_SUCCESS > /dev/null 2>&1 || fail "the removed stream c has no committed hour"
echo "ok: 4 reloads applied at checkpoint boundaries, 1 rejected; every record exactly once"
