#!/usr/bin/env bash
# bench/streams.sh: checkpoints of a pipeline with many streams (issue 3:
# "200 streams x 2 open hours: a checkpoint completes in under 1 s and
# pauses ingestion for under 100 ms; RSS stays under 512 MiB").
#
# 200 streams routed by log_id, events spread over two hours, produced into
# dev-kafka at a steady rate while the pipeline consumes them with 2 workers
# and a checkpoint every 2 s, so every checkpoint closes up to 200 x 2 x 2
# part files. `sluice run --progress` logs each checkpoint's duration and
# the longest hand-over pause of any worker; this prints their median and
# maximum over the checkpoints that published files, the peak RSS, and how
# long a hot reload (SIGHUP, one stream added) takes to be in force.
#   BENCH_STREAMS=200 BENCH_RATE=20000 BENCH_SECONDS=20
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(pwd)/${SLUICE:-build/sluice}
K=${BENCH_STREAMS:-200}
RATE=${BENCH_RATE:-20000}
SECS=${BENCH_SECONDS:-20}
W=$(pwd)/bench-out/streams
rm -rf "$W" && mkdir -p "$W"
export SLUICE="$S" SL_TMP="$W"
source tests/tools/devkafka.sh
devkafka_start --topic events:16
cp bench/play_event.proto "$W/"
{
  cat <<YAML
pipeline: streams
state_dir: ./state
checkpoint: { interval: 2s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
streams:
YAML
  for ((i = 0; i < K; i++)); do
    printf '  - { name: s%03d, route: { field: log_id, equals: "%06d" }, message: bench.PlayEvent, event_time: { field: event_time_ms }, outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ] }\n' $i $((1000 + i))
  done
} > "$W/p.yaml"
(cd "$W" && exec /usr/bin/time -f '%M' -o "$W/rss" "$S" run p.yaml --progress --stop-when-idle 3s) 2> "$W/run.log" &
pid=$!
sleep 3
"$S" gen --count $((RATE * SECS)) --streams "$K" --span-s 7200 --rate "$RATE" --brokers "$BROKERS" --topic events --quiet &
gen=$!
# halfway: a hot reload that adds a stream (issue 5: "a reload with 200
# streams applies in under one checkpoint interval"), timed by the pipeline
# from the signal to the new configuration in force
sleep $((SECS / 2))
printf '  - { name: s%03d, route: { field: log_id, equals: "%06d" }, message: bench.PlayEvent, event_time: { field: event_time_ms }, outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ] }\n' $K $((1000 + K)) >> "$W/p.yaml"
kill -HUP "$(pgrep -P $pid)"
wait $gen
wait $pid || { tail "$W/run.log"; exit 1; }
grep 'msg="checkpoint committed"' "$W/run.log" | grep -v " files=0 " |
  sed -E 's/.* files=([0-9]+) rows=([0-9]+) ms=([0-9]+) pause_ms=([0-9.e+-]+) .*/\1 \2 \3 \4/' > "$W/ckpts"
[ -s "$W/ckpts" ] || { tail "$W/run.log"; exit 1; }
med() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
{
  echo "| $K streams, 2 open hours, 2 workers, $RATE events/s | median | max | goal |"
  echo "|---|---:|---:|---:|"
  echo "| files per checkpoint | $(cut -d' ' -f1 "$W/ckpts" | med) | $(cut -d' ' -f1 "$W/ckpts" | sort -g | tail -1) | |"
  echo "| checkpoint duration (ms) | $(cut -d' ' -f3 "$W/ckpts" | med) | $(cut -d' ' -f3 "$W/ckpts" | sort -g | tail -1) | < 1000 |"
  echo "| ingestion pause at the barrier (ms) | $(cut -d' ' -f4 "$W/ckpts" | med) | $(cut -d' ' -f4 "$W/ckpts" | sort -g | tail -1) | < 100 |"
  echo "| peak RSS (MiB) | | $(( $(tail -1 "$W/rss") / 1024 )) | < 512 |"
  rl=$(grep -o 'msg="configuration reloaded".* ms=[0-9]*' "$W/run.log" | sed -E 's/.* ms=([0-9]+)$/\1/')
  [ -n "$rl" ] || { tail "$W/run.log"; exit 1; }
  echo "| hot reload adding stream $((K + 1)), signal to in force (ms) | $rl | | < 2000 (the checkpoint interval) |"
  grep 'msg="hour partitions committed"' "$W/run.log" | sed -E 's/.* partitions=([0-9]+) ms=([0-9]+).*/\1 \2/' > "$W/commits" || true
  [ -s "$W/commits" ] && echo "| hour partitions committed at once (compaction, _SUCCESS), then ms | $(cut -d' ' -f1 "$W/commits" | sort -g | tail -1) | $(cut -d' ' -f2 "$W/commits" | sort -g | tail -1) ms | |"
  echo
  echo "$(wc -l < "$W/ckpts") checkpoints with files; $(grep -o 'run_records=.*' "$W/run.log")"
} | tee "$W/results.md"
