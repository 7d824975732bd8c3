#!/usr/bin/env bash
# 0037 run-output-blocked: one output's directory fails; only the partitions
# that feed it pause, the rest of the pipeline goes on, nothing is lost.
#
# Two streams routed by topic: play (topic a, 2 partitions, with a filter
# and some undecodable records, so its records are also filtered and
# dead-lettered) writes ./lake/play, click (topic b, 2 partitions) writes
# ./lake/click, on 2 workers (each holds partitions of both topics). With
# SL_FAULT_ENOSPC naming a file that holds "/lake/play/" (core/fault.h),
# every create under lake/play fails with ENOSPC, in the workers (a batch
# flushed) and in the close pool (a file closed at a checkpoint). Then:
#   - all of click's records land, exactly once, while play is blocked;
#   - /metrics shows a/* paused and b/* never paused; promtool accepts it;
#   - the log names the stream and only a's partitions;
#   - no play file is published;
# and once the space is back: both streams exactly once (DuckDB), play's
# rows exactly those python-protobuf's filter keeps, the dead letters once,
# no in-progress file left, and `sluice audit` reconciles every hour (read =
# written + filtered + dead-lettered: the counts of the dropped work were
# dropped with it).
#
# The pipeline is killed (kill -9) while play is blocked, started again
# still blocked and killed at a random moment, then run to idle.
#
# Three times. Routed by field (scenario_field: every partition feeds both
# streams, so the closure takes click with play; both exactly once after).
# Routed by topic with 20,000 play events: a worker's batch passes 1 MiB
# and the create fails in the worker (at=write); with 3,000 it never does,
# the file is first created by the close pool at the checkpoint and the
# failure comes back over two periods (at=close: checkpoint C must record
# the positions of C-1 for a's partitions).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
TT="$SL_TMP/e2e-0037"
rm -rf "$TT" && mkdir -p "$TT"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
scenario() {
  local NA=$1 T="$TT/$1"
  mkdir -p "$T"
  devkafka_start --topic a:2 --topic b:2
  NB=30000
  BAD=7
  "$SLUICE" gen --count $NA --seed 11 --brokers "$BROKERS" --topic a --quiet
  for i in $(seq $BAD); do printf '\377\377\377 not protobuf %d' "$i"; echo; done |
    kcat -P -b "$BROKERS" -t a -p 0 -q
  "$SLUICE" gen --count $NB --seed 12 --brokers "$BROKERS" --topic b --quiet
  cp "$SL_SRC/tests/data/play_event.proto" "$T/"
  cat > "$T/p.yaml" <<YAML
pipeline: blocked
checkpoint: { interval: 1s }
workers: 2
http: { listen: "127.0.0.1:0" }
source: { kind: kafka, brokers: "$BROKERS", topics: [a, b] }
schemas: [./play_event.proto]
streams:
  - name: play
    route: { topic: a }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { filter: "play_seconds > 5", metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: click
    route: { topic: b }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML
  echo "/lake/play/" > "$T/full"
  (cd "$T" && SL_FAULT_ENOSPC="$T/full" exec "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null || true; devkafka_stop' EXIT
  for _ in $(seq 200); do [ -s "$T/state/http.addr" ] && break; kill -0 $pid || break; sleep 0.1; done
  [ -s "$T/state/http.addr" ] || { cat "$T/run.log"; fail "no state/http.addr"; }
  A=$(cat "$T/state/http.addr")

  # click lands in full while play is blocked, and a's partitions show paused
  click_ok=0 seen_paused=0
  for ((k = 0; k < 600; k++)); do
    kill -0 $pid 2>/dev/null || { cat "$T/run.log"; fail "sluice run exited while play was blocked"; }
    if curl -sf "http://$A/metrics" > "$T/metrics.txt"; then
      grep -q 'sluice_input_paused{[^}]*topic="b"[^}]*} 1' "$T/metrics.txt" &&
        fail "a partition of topic b (click, not blocked) was paused"
      if grep -q 'sluice_input_paused{[^}]*topic="a"[^}]*} 1' "$T/metrics.txt"; then
        seen_paused=1
        cp "$T/metrics.txt" "$T/metrics-paused.txt"
        curl -s "http://$A/status" > "$T/status-paused.json"
        curl -s -o "$T/healthz.txt" -w '%{http_code}' "http://$A/healthz" > "$T/healthz.code"
      fi
    fi
    if [ $click_ok = 0 ] && [ -n "$(find "$T/lake/click" -name '*.parquet' 2>/dev/null)" ] &&
      (cd "$TOOLS" && node lake_check.mjs "$T/lake" click --once "$NB") > /dev/null 2>&1; then
      click_ok=1
    fi
    [ $click_ok = 1 ] && [ $seen_paused = 1 ] && [ "$(grep -c 'pausing only the partitions' "$T/run.log")" -ge 3 ] && break
    sleep 0.2
  done
  [ $click_ok = 1 ] || { cat "$T/run.log"; fail "click's records did not all land while play was blocked"; }
  [ $seen_paused = 1 ] || { cat "$T/run.log"; fail "/metrics never showed topic a's partitions paused"; }
  promtool check metrics < "$T/metrics-paused.txt" || fail "promtool rejects the exposition"
  [ "$(cat "$T/healthz.code")" = 503 ] && grep -q '^degraded' "$T/healthz.txt" ||
    fail "/healthz while play is blocked: $(cat "$T/healthz.code") $(cat "$T/healthz.txt")"
  /usr/bin/python3 - "$T/status-paused.json" <<'PY' || fail "/status while play is blocked"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "degraded" and "No space left" in d["error"], d
ins = d["inputs"]
assert any(i["paused"] for i in ins if i["topic"] == "a"), ins
assert not any(i["paused"] for i in ins if i["topic"] == "b"), ins
PY
  grep -Eq '^sluice_output_retries_total\{[^}]*\} [1-9]' "$T/metrics-paused.txt" ||
    fail "sluice_output_retries_total did not count the retries"
  grep -q 'pausing only the partitions' "$T/run.log" || fail "the log does not say what paused"
  grep 'pausing only the partitions' "$T/run.log" | grep -q 'No space left on device' ||
    fail "the log does not say why"
  grep 'pausing only the partitions' "$T/run.log" | grep -q 'streams=play' ||
    fail "the log does not name the stream"
  grep 'pausing only the partitions' "$T/run.log" | grep -Eq 'partitions="?[^ ]*b/' &&
    fail "the log names a partition of topic b as paused"
  [ -z "$(find "$T/lake/play" -name '*.parquet' 2>/dev/null)" ] || fail "play files published while its directory was full"
  grep -q 'attempt failed' "$T/run.log" && { cat "$T/run.log"; fail "the whole attempt restarted"; }

  # kill -9 while blocked, run blocked again and kill -9 at a random moment
  # of it, then free the space and run to idle: still exactly once
  kill -9 $pid
  wait $pid 2>/dev/null || true
  (cd "$T" && SL_FAULT_ENOSPC="$T/full" exec "$SLUICE" run p.yaml) 2>> "$T/run.log" &
  pid=$!
  sleep "$((2 + RANDOM % 3)).$((RANDOM % 10))"
  kill -9 $pid
  wait $pid 2>/dev/null || true
  rm -f "$T/full"
  (cd "$T" && exec "$SLUICE" run p.yaml --stop-when-idle 3s) 2>> "$T/run.log" &
  pid=$!
  for ((k = 0; k < 1500; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -0 $pid 2>/dev/null && { kill -9 $pid; cat "$T/run.log"; fail "no progress after the space came back"; }
  wait $pid || { cat "$T/run.log"; fail "sluice run failed after the space came back"; }
  grep -q 'resuming the partitions paused' "$T/run.log" || fail "the log does not say the partitions resumed"

  PLAY=$(cd "$TOOLS" && node duckq.mjs --row "SELECT count(*) FROM read_parquet('$T/lake/play/**/*.parquet')")
  # python-protobuf counts what the filter keeps, from the same bytes
  "$SLUICE" gen --count $NA --seed 11 --output "$T/a.pb" --quiet
  /usr/bin/python3 "$TOOLS/run_expect.py" --proto "$SL_SRC/tests/data/play_event.proto" \
    --input "$T/a.pb" --all 'play@m.play_seconds > 5' > "$T/expect.json"
  WANT=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["play"]["rows"])' "$T/expect.json")
  [ -n "$WANT" ] && [ "$PLAY" = "$WANT" ] || fail "play holds $PLAY rows, python-protobuf keeps $WANT of the $NA events"
  (cd "$TOOLS" && node lake_check.mjs "$T/lake" click --once "$NB") || fail "click not exactly once"
  DUPS=$(cd "$TOOLS" && node duckq.mjs --row "SELECT count(*) - count(DISTINCT (_partition, _offset)) FROM read_parquet('$T/lake/play/**/*.parquet')")
  [ "$DUPS" = 0 ] || fail "play holds $DUPS duplicated rows"
  DL=$(cd "$TOOLS" && node duckq.mjs --row "SELECT count(*), count(DISTINCT \"offset\") FROM read_parquet('$T/lake/_dead_letter/**/*.parquet')")
  [ "$DL" = "$BAD $BAD" ] || fail "dead letters: $DL (rows, distinct offsets), want $BAD $BAD"
  [ "$(find "$T/lake" -name '.sluice+*' | wc -l)" = 0 ] || fail "in-progress files left"
  (cd "$T" && "$SLUICE" audit p.yaml) > "$T/audit.txt" 2>&1 || { cat "$T/audit.txt"; fail "sluice audit finds a difference"; }

  devkafka_stop
  trap - EXIT
}

# Routing by field: every partition feeds both streams, so a blocked play
# pulls click's work into the closure too (its open files are dropped and
# read again with play's); both must still be exactly once.
scenario_field() {
  local T="$TT/field" N=20000
  mkdir -p "$T"
  devkafka_start --topic ev:2
  "$SLUICE" gen --count $N --streams 2 --seed 13 --output "$T/ev.pb" --quiet
  "$SLUICE" gen --count $N --streams 2 --seed 13 --brokers "$BROKERS" --topic ev --quiet
  cp "$SL_SRC/tests/data/play_event.proto" "$T/"
  cat > "$T/p.yaml" <<YAML
pipeline: blockedf
checkpoint: { interval: 1s }
workers: 1
source: { kind: kafka, brokers: "$BROKERS", topics: [ev] }
schemas: [./play_event.proto]
streams:
  - name: play
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: click
    route: { field: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
  echo "/lake/play/" > "$T/full"
  (cd "$T" && SL_FAULT_ENOSPC="$T/full" exec "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null || true; devkafka_stop' EXIT
  for ((k = 0; k < 600; k++)); do
    kill -0 $pid 2>/dev/null || { cat "$T/run.log"; fail "field: sluice run exited while play was blocked"; }
    [ "$(grep -c 'pausing only the partitions' "$T/run.log")" -ge 4 ] && break
    sleep 0.2
  done
  grep 'pausing only the partitions' "$T/run.log" | grep -q 'streams=play,click' ||
    { cat "$T/run.log"; fail "field: the closure did not take click with play"; }
  # each failure pauses the partitions that fed play since the barrier: over
  # the failures, both (every partition feeds play)
  for p in ev/0 ev/1; do
    grep 'pausing only the partitions' "$T/run.log" | grep -Eq "partitions=\"?([^ ]*,)?$p[, \"]" ||
      { cat "$T/run.log"; fail "field: $p never paused"; }
  done
  [ -z "$(find "$T/lake/play" -name '*.parquet' 2>/dev/null)" ] || fail "field: play files published while blocked"
  rm -f "$T/full"
  for ((k = 0; k < 1500; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -0 $pid 2>/dev/null && { kill -9 $pid; cat "$T/run.log"; fail "field: no progress after the space came back"; }
  wait $pid || { cat "$T/run.log"; fail "field: sluice run failed after the space came back"; }
  grep -q 'attempt failed' "$T/run.log" && { cat "$T/run.log"; fail "field: the whole attempt restarted"; }
  /usr/bin/python3 "$TOOLS/run_expect.py" --proto "$SL_SRC/tests/data/play_event.proto" \
    --input "$T/ev.pb" --stream play=001000 --stream click=001001 > "$T/expect.json"
  read -r WP WC < <(/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["play"]["rows"], d["click"]["rows"])' "$T/expect.json")
  [ "$WP" -gt 0 ] && [ "$WC" -gt 0 ] || fail "field: python-protobuf counts $WP / $WC"
  (cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once "$WP") || fail "field: play not exactly once"
  (cd "$TOOLS" && node lake_check.mjs "$T/lake" click --once "$WC") || fail "field: click not exactly once"
  [ "$(find "$T/lake" -name '.sluice+*' | wc -l)" = 0 ] || fail "field: in-progress files left"
  (cd "$T" && "$SLUICE" audit p.yaml) > "$T/audit.txt" 2>&1 || { cat "$T/audit.txt"; fail "field: sluice audit finds a difference"; }
  devkafka_stop
  trap - EXIT
}

scenario_field
scenario 20000
grep 'pausing only the partitions' "$TT/20000/run.log" | grep -q 'at=write' ||
  fail "20,000 events: no failure in a worker (at=write)"
scenario 3000
grep 'pausing only the partitions' "$TT/3000/run.log" | grep -q 'at=close' ||
  fail "3,000 events: no failure in the close pool (at=close)"
echo "0037 ok"
