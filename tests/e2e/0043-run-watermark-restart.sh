#!/usr/bin/env bash
# 0043 run-watermark-restart: a restart resumes each input partition's
# watermark from the checkpoint, so a partition that brings nothing new does
# not hold every hour back until its idle timeout.
#
# Two partitions, events produced with python's Kafka client to chosen
# partitions: p0 up to 00:30, p1 up to 01:30 (no out-of-orderness allowed,
# idle timeout 1 h). Run 1: the frontier is min(00:30, 01:30) = 00:30, so hour
# 00 is not committed. Then p0 gets events up to 01:10, and run 2 (a restart)
# must see min(01:10, 01:30) = 01:10 and commit hour 00 at once - p1, with no
# new event, keeps its checkpointed 01:30 rather than counting as "nothing
# read yet". The committed hour's rows must equal what was produced for it.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0043"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:2

START=1764547200000 # 2025-12-01T00:00:00Z
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
produce() { # produce PARTITION FROM_MIN TO_MIN: one event a minute
  /usr/bin/python3 - "$T/play_event.proto" "$T" "$BROKERS" $START "$@" <<'PY'
import os, subprocess, sys, importlib
from confluent_kafka import Producer
proto, tmp, brokers, start, part, a, b = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
subprocess.run(['protoc', '-I', os.path.dirname(proto), '--python_out', tmp, proto], check=True)
sys.path.insert(0, tmp)
pb = importlib.import_module('play_event_pb2')
p = Producer({'bootstrap.servers': brokers})
for m in range(a, b + 1):
    t = start + m * 60000
    p.produce('events', value=pb.PlayEvent(log_id='001000', mid=part * 1000 + m, event_time_ms=t).SerializeToString(),
              partition=part, timestamp=t)
assert p.flush(30) == 0
PY
}
produce 0 0 30
produce 1 0 90
cat > "$T/p.yaml" <<YAML
pipeline: e2e43
state_dir: ./state
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
defaults: { event_time: { max_out_of_orderness: 0s, idle_timeout: 1h } }
streams:
  - name: s
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
H0="$T/lake/s/dt=2025-12-01/hour=00"
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 2s) 2> "$T/run1.log" || { cat "$T/run1.log"; fail "run 1"; }
[ ! -e "$H0/_SUCCESS" ] || fail "hour 00 committed with p0 only at 00:30"
produce 0 31 70
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 2s) 2> "$T/run2.log" || { cat "$T/run2.log"; fail "run 2"; }
[ -e "$H0/_SUCCESS" ] || { grep -v "checkpoint committed" "$T/run2.log"; fail "after the restart hour 00 is not committed: p1's watermark was not resumed"; }
# hour 00 holds p0's minutes 0-59 and p1's 0-59
rows=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$H0/_SUCCESS")
[ "$rows" = 120 ] || fail "hour 00: _SUCCESS says $rows rows, 120 were produced for it"
[ ! -e "$T/lake/s/dt=2025-12-01/hour=01/_SUCCESS" ] || fail "hour 01 committed before the frontier (01:10) passed it"
echo "ok: the restarted pipeline resumed its partitions' watermarks"
