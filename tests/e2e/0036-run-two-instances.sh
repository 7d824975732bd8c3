#!/usr/bin/env bash
# 0036 run-two-instances: two processes of one pipeline in one consumer
# group, each with its own state directory, writing one lake.
#
# A starts alone; B joins (Kafka moves half the partitions: A checkpoints
# them and commits their offsets before releasing them); events keep coming;
# A stops (final checkpoint, offsets committed, partitions move to B); B runs
# to idle. Every record must be in the lake (DuckDB: every (_partition,
# _offset) present), file names of the two instances must never collide,
# and a third process on A's state directory must refuse to start while A
# runs.
# Exactly once across instances rests on the offsets A commits to the group
# before it releases partitions. Kafka's group coordinator accepts those
# commits while a rebalance is being prepared; librdkafka's mock cluster
# answers REBALANCE_IN_PROGRESS, so here B may read again what A wrote since
# its last periodic commit. The test therefore checks for no loss, and
# reports the duplicates it sees (docs/pipeline.md).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0036"
rm -rf "$T" && mkdir -p "$T/a" "$T/b"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:8
N1=20000 N2=20000
"$SLUICE" gen --count $N1 --seed 1 --brokers "$BROKERS" --topic events --quiet
for x in a b; do
  cp "$SL_SRC/tests/data/play_event.proto" "$T/$x/"
  cat > "$T/$x/p.yaml" <<YAML
pipeline: multi
state_dir: ./state
checkpoint: { interval: 1s }
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
streams:
  - name: play
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "$T/lake/{stream}/dt={date}/hour={hour}" } ]
YAML
done
(cd "$T/a" && exec "$SLUICE" run p.yaml) 2> "$T/a.log" &
pa=$!
for ((k = 0; k < 300; k++)); do [ -n "$(find "$T/lake" -name '*.parquet' 2>/dev/null | head -1)" ] && break; sleep 0.1; done
# a second process on A's state directory is refused
if (cd "$T/a" && "$SLUICE" run p.yaml --stop-when-idle 1s) 2> "$T/a2.log"; then fail "a second instance ran on A's state_dir"; fi
grep -q "already running with state_dir" "$T/a2.log" || { cat "$T/a2.log"; fail "no clear refusal"; }
(cd "$T/b" && exec "$SLUICE" run p.yaml --stop-when-idle 10s) 2> "$T/b.log" &
pb=$!
"$SLUICE" gen --count $N2 --seed 2 --start-ms 1764554400000 --rate 4000 --brokers "$BROKERS" --topic events --quiet
kill -TERM $pa
wait $pa || { cat "$T/a.log"; fail "A did not stop cleanly"; }
for ((k = 0; k < 1200; k++)); do kill -0 $pb 2>/dev/null || break; sleep 0.1; done
kill -0 $pb 2>/dev/null && { kill -9 $pb; fail "B did not go idle"; }
wait $pb || { cat "$T/b.log"; fail "B failed"; }
grep -q "checkpointed by another instance" "$T/b.log" || { grep -v '^kafka' "$T/b.log"; fail "B never took over a partition from A"; }
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play) > "$T/got.json"
/usr/bin/python3 - "$T/got.json" $((N1 + N2)) <<'PY'
import json, sys
g, n = json.load(open(sys.argv[1]))['play'], int(sys.argv[2])
if g['distinct'] != n:
    sys.exit(f"FAIL: {g['distinct']} distinct positions of {n}: records lost")
print(f"no loss: {n} records; {g['rows'] - n} duplicates from partitions handed over on the mock broker")
PY
ia=$(cat "$T/a/state/instance"); ib=$(cat "$T/b/state/instance")
[ "$ia" != "$ib" ] || fail "both instances have id $ia"
find "$T/lake" -name "multi-$ia-*.parquet" | grep -q . || fail "no file of instance A"
find "$T/lake" -name "multi-$ib-*.parquet" | grep -q . || fail "no file of instance B"
echo "0036 ok"
