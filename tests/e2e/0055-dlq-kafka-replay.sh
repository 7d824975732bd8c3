#!/usr/bin/env bash
# 0055 dlq-kafka-replay: dead letters in a Kafka topic (dead_letter kind
# kafka) put back through the pipeline after a schema fix, exactly once,
# through kill -9; the topic keeps them, and a second replay takes none.
#
# As 0054, with the dead letters on topic dlq: the pipeline's schema says
# PlayEvent.region (field 99) is a string; 200 events built by
# python-protobuf with region as an int64 do not decode and go to dlq (in
# the checkpoints' transactions, next to the Kafka output's records), among
# 3000 good events from `sluice gen`. Then:
#   - kcat reads the 200 dead letters from dlq with their sluice.* headers
#     (sluice.kafka_timestamp and sluice.instance too); `sluice audit`
#     counts them on the topic for their hour (committed: the events span
#     two hours), before the replay and after it reopened the hour;
#   - `sluice dlq list` shows the 200 with the decode error;
#   - the schema is fixed (int64); `sluice dlq replay --rate 100` asks for
#     the replay; the pipeline is killed (SIGKILL at a fault point) in the
#     middle of it, and the next run finishes it;
#   - the summary counts 200 replayed and written; the request is kept as
#     STATE/dlq/replayed/ID.req; `sluice dlq list` shows nothing left and a
#     second replay finds nothing, although the topic still holds the 200;
#   - the lake holds all 3200 events exactly once (DuckDB), the 200 with
#     the region values python wrote.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0055"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:2 --topic clean:2 --topic dlq:1

START=1764547200000 # 2025-12-01T00:00:00Z
M=200
N=3000
sed 's/^message PlayEvent {/message PlayEvent {\n  string region = 99;/' \
  "$SL_SRC/tests/data/play_event.proto" > "$T/play_event.proto"
sed 's/string region = 99;/int64 region = 99;/' "$T/play_event.proto" > "$T/fixed.proto"
"$SLUICE" gen --count $N --streams 1 --seed 4 --start-ms $START --span-s 7200 --disorder-s 0 \
  --brokers "$BROKERS" --topic events --quiet
/usr/bin/python3 "$TOOLS/region_events.py" "$T/fixed.proto" "$T/py" "$BROKERS" $START $M 0,1 1

cat > "$T/p.yaml" <<YAML
pipeline: e2e55
state_dir: ./state
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
defaults: { event_time: { max_out_of_orderness: 60s, idle_timeout: 1h } }
streams:
  - name: play
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    commit: { late: reopen }
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" }
      - { kind: kafka, topic: clean, format: protobuf }
dead_letter: { kind: kafka, topic: dlq }
YAML
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run1.log" || { cat "$T/run1.log"; fail "run 1"; }

# the dead letters on the topic, read by kcat (read_committed)
kcat -C -b "$BROKERS" -t dlq -o beginning -e -q -X isolation.level=read_committed \
  -f '%h\n' > "$T/dlq.headers"
[ "$(grep -c 'sluice.pipeline=e2e55' "$T/dlq.headers")" = $M ] ||
  fail "dlq holds $(grep -c sluice.pipeline "$T/dlq.headers") dead letters, want $M"
grep -q 'sluice.kafka_timestamp=1764547800000' "$T/dlq.headers" ||
  fail "no sluice.kafka_timestamp header with the original timestamp"
[ "$(grep -c "sluice.instance=$(cat "$T/state/instance")" "$T/dlq.headers")" = $M ] ||
  fail "the dead letters do not name the instance that wrote them"
# sluice audit counts the dead letters on the topic: hour 0 (committed: the
# events span two hours) holds all 200
audit_hour0() {
  (cd "$T" && "$SLUICE" audit p.yaml --json) > "$T/audit.$1.json" || { cat "$T/audit.$1.json"; fail "sluice audit ($1)"; }
  /usr/bin/python3 - "$T/audit.$1.json" $M <<'PY' || { cat "$T/audit.$1.json"; fail "audit of hour 0 ($1)"; }
import json, sys
m = int(sys.argv[2])
parts = json.load(open(sys.argv[1]))['partitions']
h0 = [r for r in parts if r['partition'] == 'dt=2025-12-01/hour=00']
assert h0 and h0[0]['ok'] and h0[0]['dead_lettered'] == m and h0[0]['dead_letter_rows'] == m, h0
PY
}
audit_hour0 before

(cd "$T" && "$SLUICE" dlq list p.yaml --json) > "$T/list.json"
/usr/bin/python3 - "$T/list.json" $M <<'PY' || { cat "$T/list.json"; fail "dlq list"; }
import json, sys
rows = json.load(open(sys.argv[1]))
assert sum(r['dead_letters'] for r in rows) == int(sys.argv[2]), rows
assert all(r['stream'] == 'play' and 'region' in r['top_reason'] for r in rows), rows
PY

cp "$T/fixed.proto" "$T/play_event.proto"
(cd "$T" && "$SLUICE" dlq replay p.yaml --rate 100) > "$T/replay.out" || { cat "$T/replay.out"; fail "replay refused"; }
grep -q "$M dead letters in 1 partition;" "$T/replay.out" ||
  { cat "$T/replay.out"; fail "replay: unexpected answer"; }
ID=$(sed -E 's/^replay ([^:]+):.*/\1/' "$T/replay.out")

(cd "$T" && SL_FAULT=replay.record:150 exec "$SLUICE" run p.yaml) 2> "$T/crash.log" &
pid=$!
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
grep -q "fault point replay.record reached" "$T/crash.log" || { cat "$T/crash.log"; fail "fault point not reached"; }
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run2.log" || { cat "$T/run2.log"; fail "run 2"; }
grep 'dead-letter replay started' "$T/run2.log" | grep -qv "from_row=0" ||
  { cat "$T/run2.log"; fail "the replay did not resume from a checkpointed row"; }
grep -q 'msg="dead-letter replay finished"' "$T/run2.log" || { cat "$T/run2.log"; fail "the replay did not finish"; }

/usr/bin/python3 - "$T/state/dlq/done/$ID.json" $M <<'PY' || fail "summary"
import json, sys
d, m = json.load(open(sys.argv[1])), int(sys.argv[2])
assert d['replayed'] == m and d['written'] == m and d['dead_lettered'] == 0, d
PY
[ ! -e "$T/state/dlq/requests/$ID.req" ] || fail "the request is still there"
[ -s "$T/state/dlq/replayed/$ID.req" ] || fail "the selection was not kept"
(cd "$T" && "$SLUICE" dlq replay p.yaml) > "$T/again.out"
grep -q "nothing to replay" "$T/again.out" || { cat "$T/again.out"; fail "a second replay found work"; }
(cd "$T" && "$SLUICE" dlq list p.yaml) > "$T/list2.out"
grep -q "^0 dead letters not replayed yet" "$T/list2.out" || { cat "$T/list2.out"; fail "dlq list after the replay"; }
[ "$(kcat -C -b "$BROKERS" -t dlq -o beginning -e -q -X isolation.level=read_committed -f '%o\n' | wc -l)" = $M ] ||
  fail "the topic no longer holds the $M dead letters"

(cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once $((N + M))) || fail "not exactly once"
audit_hour0 after # reopened by the replayed rows; its dead letters still on the topic
(cd "$TOOLS" && node duckq.mjs --row "SELECT count(*)::INT, count(*) FILTER (WHERE region = -((mid - 700000) * 7919) - 1)::INT FROM read_parquet('$T/lake/play/*/*/*.parquet', union_by_name=true) WHERE mid >= 700000 AND mid < 700000 + $M") > "$T/region.out"
[ "$(cat "$T/region.out")" = "$M $M" ] || fail "replayed rows with python's region: $(cat "$T/region.out"), want $M $M"
echo "ok: $M dead letters replayed from a Kafka topic exactly once through a crash"
