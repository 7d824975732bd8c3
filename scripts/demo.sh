#!/usr/bin/env bash
# make demo: the real thing, on one machine with nothing installed but Debian.
#   1. a local Kafka-protocol broker (sluice dev-kafka)
#   2. a pipeline (sluice run) routing three streams into ./demo-out/lake as
#      hourly Parquet partitions, checkpointing every 2 s, with a progress line
#   3. a generator producing PlayEvents for four streams while it runs (the
#      fourth matches no stream: its records are dead-lettered, not lost)
#   4. what landed: partitions, rows, a few rows, through DuckDB
#   5. the hour partitions' states (sluice partitions)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
S="$(pwd)/build/sluice"
out="$(pwd)/demo-out"
count=${DEMO_COUNT:-300000}
rm -rf "$out" && mkdir -p "$out"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step "1. sluice dev-kafka: a local Kafka-protocol cluster, topic 'events' with 16 partitions"
"$S" dev-kafka --topic events:16 --bootstrap-file "$out/kafka.boot" > /dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/kafka.boot" ] && break; sleep 0.1; done
BROKERS=$(cat "$out/kafka.boot")
echo "brokers: $BROKERS"

step "2. the pipeline file"
cp bench/play_event.proto "$out/"
cat > "$out/plays.yaml" <<YAML
pipeline: plays
state_dir: ./state
checkpoint: { interval: 2s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events], start: earliest }
schemas: [./play_event.proto]
streams:
  - name: play                                   # routed by a field of the record
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms, unit: ms }
    etl:
      metadata: [partition, offset, kafka_timestamp]
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}", format: parquet, compression: zstd }
  - name: long_plays                             # routed by a Kafka header, filtered, projected
    route: { header: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl:
      filter: "play_seconds >= 60 and platform in ('IOS', 'ANDROID')"
      columns: [mid, avid, play_seconds, platform, event_time_ms]
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" }
  - name: tv                                     # a third stream, by field, as JSON lines
    route: { field: log_id, equals: "001002" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}", format: jsonl }
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML
sed -n '1,200p' "$out/plays.yaml"

step "3. sluice run, while sluice gen produces $count events (4 streams) into the topic"
(cd "$out" && exec "$S" run plays.yaml --progress --stop-when-idle 4s) &
run=$!
pids+=($run)
sleep 3
"$S" gen --count "$count" --streams 4 --rate 60000 --brokers "$BROKERS" --topic events
wait $run
pids=("${pids[0]}")

step "4. what landed"
(cd "$out" && find lake -type f | sort | sed -n '1,12p'; echo "... $(find lake -type f | wc -l) files")
q() { (cd tests/tools && node duckq.mjs "$1"); }
L="$out/lake"
q "SELECT 'play' AS stream, regexp_extract(filename, 'dt=[^/]+/hour=[0-9]+') AS partition, count(*) AS rows,
          count(DISTINCT (_partition, _offset)) AS distinct_positions
   FROM read_parquet('$L/play/**/*.parquet', filename=true) GROUP BY ALL ORDER BY 2"
q "SELECT * FROM read_parquet('$L/long_plays/**/*.parquet', hive_partitioning=false) LIMIT 5"
q "SELECT count(*) AS tv_rows FROM read_json_auto('$L/tv/**/*.jsonl')"
echo "dead letters (log_id 001003 matches no stream), per hour of their Kafka timestamp:"
q "SELECT hour, count(*) AS records, any_value(reason) AS reason, any_value(\"offset\") AS \"offset\"
   FROM read_parquet('$L/_dead_letter/*/*/*.parquet', hive_partitioning=false) GROUP BY 1 ORDER BY 1"

step "5. sluice partitions: hours whose watermark has passed are committed (compacted, _SUCCESS)"
(cd "$out" && "$S" partitions plays.yaml)

step "6. sluice audit: each committed hour's counts against what is in the lake"
(cd "$out" && "$S" audit plays.yaml) || true
printf '\nEverything is in %s/ (the lake, the state with its checkpoint manifests).\n' "$out"
