#!/usr/bin/env bash
# 0054 dlq-replay: dead letters put back through the pipeline after a schema
# fix, exactly once, through kill -9.
#
# The pipeline's schema says PlayEvent.region (field 99) is a string; 300
# events (built by python-protobuf with region as an int64)
# therefore do not decode and are dead-lettered (Parquet, in hour 0: their
# Kafka timestamps are their event times), next to 6000 good
# events from `sluice gen` over two hours, hour 0 of which commits. Then:
#   - `sluice dlq list` shows the 300, with the decode error;
#   - the schema is fixed (int64); `sluice dlq replay` refuses while the
#     stream drops late records (its hour 0 is committed), and is accepted
#     once commit.late is reopen;
#   - the replay runs at 100 records/s, so checkpoints fall inside it; the
#     pipeline is killed (SIGKILL at a fault point) in the middle of the
#     replay (the next run resumes from the checkpointed row), and again after
#     the replayed files were moved aside but before the summary; a last run
#     finishes it.
# What must hold, checked against python-protobuf and DuckDB:
#   - the lake holds all 6300 events exactly once (by _partition, _offset,
#     each in its event hour), the 300 with the region values python wrote;
#   - the replay's summary counts 300 replayed, 300 written; the dead-letter
#     files moved to _replayed/ID/; nothing is left to replay, and a second
#     replay finds nothing;
#   - hour 0 was reopened (commit.late: reopen) and `sluice audit`
#     reconciles it: its 300 dead letters (now under _replayed/) and the
#     300 replayed rows are both counted.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0054"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4

START=1764547200000 # 2025-12-01T00:00:00Z
M=300
N=6000
sed 's/^message PlayEvent {/message PlayEvent {\n  string region = 99;/' \
  "$SL_SRC/tests/data/play_event.proto" > "$T/play_event.proto"
sed 's/string region = 99;/int64 region = 99;/' "$T/play_event.proto" > "$T/fixed.proto"
"$SLUICE" gen --count $N --streams 1 --seed 3 --start-ms $START --span-s 7200 --disorder-s 0 \
  --brokers "$BROKERS" --topic events --quiet
# the 300 that the first schema cannot decode: in hour 0, with their event
# time as Kafka timestamp (python's Kafka client: kcat cannot set it), so
# their dead letters are counted in hour 0 too
/usr/bin/python3 "$TOOLS/region_events.py" "$T/fixed.proto" "$T/py" "$BROKERS" $START $M 1

conf() { # conf LATE: the pipeline file with the stream's commit.late
  cat > "$T/p.yaml" <<YAML
pipeline: e2e54
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
    commit: { late: $1 }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML
}
conf drop
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run1.log" || { cat "$T/run1.log"; fail "run 1"; }
ls "$T"/lake/play/dt=2025-12-01/hour=00/_SUCCESS > /dev/null || fail "hour 0 was not committed"

# what is in the dead letters
(cd "$T" && "$SLUICE" dlq list p.yaml --json) > "$T/list.json"
/usr/bin/python3 - "$T/list.json" $M <<'PY' || fail "dlq list"
import json, sys
rows = json.load(open(sys.argv[1]))
assert sum(r['dead_letters'] for r in rows) == int(sys.argv[2]), rows
assert all(r['stream'] == 'play' and 'region' in r['top_reason'] for r in rows), rows
assert [r['partition'] for r in rows] == ['dt=2025-12-01/hour=00'], rows
PY

# the fix; a replay is refused while late records of the stream are dropped
cp "$T/fixed.proto" "$T/play_event.proto"
if (cd "$T" && "$SLUICE" dlq replay p.yaml) > "$T/refused.out" 2>&1; then fail "replay into a dropping stream accepted"; fi
grep -q "commit.late: drop" "$T/refused.out" || { cat "$T/refused.out"; fail "the refusal does not say why"; }
conf reopen
# 100 a second: checkpoints fall in the middle of the replay, so a crash
# resumes it from a position of the manifest
(cd "$T" && "$SLUICE" dlq replay p.yaml --rate 100) > "$T/replay.out" || { cat "$T/replay.out"; fail "replay refused"; }
grep -q "$M dead letters in" "$T/replay.out" && grep -q "not running" "$T/replay.out" ||
  { cat "$T/replay.out"; fail "replay: unexpected answer"; }
ID=$(sed -E 's/^replay ([^:]+):.*/\1/' "$T/replay.out")

# killed in the middle of the replay, then while finishing it
for p in replay.record:150 replay.moved:1; do
  (cd "$T" && SL_FAULT="$p" exec "$SLUICE" run p.yaml) 2> "$T/crash.$p.log" &
  pid=$!
  for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  grep -q "fault point ${p%%:*} reached" "$T/crash.$p.log" || { cat "$T/crash.$p.log"; fail "fault point $p not reached"; }
done
grep 'dead-letter replay started' "$T/crash.replay.moved:1.log" | grep -qv "from_row=0" ||
  { cat "$T/crash.replay.moved:1.log"; fail "the replay did not resume from a checkpointed row"; }
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run2.log" || { cat "$T/run2.log"; fail "run 2"; }
grep -q '"dead-letter replay finished"\|msg="dead-letter replay finished"' "$T/run2.log" ||
  { cat "$T/run2.log"; fail "the replay did not finish"; }

# the summary, the files moved aside, nothing left
/usr/bin/python3 - "$T/state/dlq/done/$ID.json" $M <<'PY' || fail "summary"
import json, sys
d, m = json.load(open(sys.argv[1])), int(sys.argv[2])
assert d['replayed'] == m and d['written'] == m and d['dead_lettered'] == 0, d
PY
[ ! -e "$T/state/dlq/requests/$ID.req" ] || fail "the request is still there"
[ "$(find "$T/lake/_dead_letter/_replayed/$ID" -name '*.parquet' | wc -l)" -ge 1 ] || fail "no file moved aside"
[ -z "$(find "$T/lake/_dead_letter" -path '*/_replayed' -prune -o -name '*.parquet' -print)" ] ||
  fail "dead-letter files left outside _replayed"
(cd "$T" && "$SLUICE" dlq replay p.yaml) > "$T/again.out"
grep -q "nothing to replay" "$T/again.out" || { cat "$T/again.out"; fail "a second replay found work"; }

# the lake: every event exactly once, the replayed ones with python's region
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once $((N + M))) || fail "not exactly once"
(cd "$TOOLS" && node duckq.mjs --row "SELECT count(*)::INT, count(*) FILTER (WHERE region = -((mid - 700000) * 7919) - 1)::INT FROM read_parquet('$T/lake/play/*/*/*.parquet', union_by_name=true) WHERE mid >= 700000 AND mid < 700000 + $M") > "$T/region.out"
[ "$(cat "$T/region.out")" = "$M $M" ] || fail "replayed rows with python's region: $(cat "$T/region.out"), want $M $M"
# hour 0 reopened (a new version at each checkpoint that brought it late rows)
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["version"] >= 2 and d["rows"] == d["audit"]["written"]))' \
  "$T/lake/play/dt=2025-12-01/hour=00/_SUCCESS" || fail "hour 0 was not reopened: $(cat "$T/lake/play/dt=2025-12-01/hour=00/_SUCCESS")"
(cd "$T" && "$SLUICE" audit p.yaml --json) > "$T/audit.out" || { cat "$T/audit.out"; fail "sluice audit"; }
/usr/bin/python3 - "$T/audit.out" $M <<'PY' || { cat "$T/audit.out"; fail "audit of hour 0"; }
import json, sys
m = int(sys.argv[2])
parts = json.load(open(sys.argv[1]))['partitions']
h0 = [r for r in parts if r['partition'] == 'dt=2025-12-01/hour=00']
assert h0 and h0[0]['ok'] and h0[0]['dead_lettered'] == m and h0[0]['dead_letter_rows'] == m, h0
PY
echo "ok: $M dead letters replayed exactly once through two crashes; audit reconciles"
