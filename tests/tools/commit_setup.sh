# commit_setup.sh - sourced by the partition-commit tests (0041, 0042): the
# same input and pipeline file, and the same collection of what landed for
# tests/tools/commit_check.py. Needs T, SLUICE, SL_SRC, TOOLS, BROKERS.
#
#   commit_setup PIPELINE   produce the events, write $T/p.yaml
#   commit_collect          kcat the input and the notifications, DuckDB's
#                           counts, `sluice partitions --json`, into $T
START=1764547200000 # 2025-12-01T00:00:00Z

commit_setup() {
  local pipe=$1 i
  # three streams over four hours with disorder, a fourth silent after hour 0
  # whose own max_out_of_orderness (1h) makes its watermark an hour behind
  "$SLUICE" gen --count 24000 --streams 3 --seed 4 --start-ms $START --span-s 14400 \
    --disorder-s 300 --brokers "$BROKERS" --topic events --quiet
  "$SLUICE" gen --count 500 --streams 1 --first-stream 1003 --seed 5 --start-ms $START \
    --span-s 1800 --disorder-s 0 --brokers "$BROKERS" --topic events --quiet
  cp "$SL_SRC/tests/data/play_event.proto" "$T/"
  cat > "$T/p.yaml" <<YAML
pipeline: $pipe
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
defaults:
  event_time: { max_out_of_orderness: 120s, idle_timeout: 1h }
  commit:
    success_file: true
    notify:
      - { kind: kafka, topic: sluice.partitions }
      - { kind: command, run: 'echo "\$SLUICE_ID \$SLUICE_ROWS" >> notified.log' }
streams:
YAML
  for i in 0 1 2 3; do
    cat >> "$T/p.yaml" <<YAML
  - name: s$i
    route: { field: log_id, equals: "00100$i" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms$( [ $i = 3 ] && echo ', max_out_of_orderness: 1h' ) }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
  done
}

commit_collect() {
  kcat -C -b "$BROKERS" -t events -o beginning -e -q -f '%p %S\n%s\n' > "$T/events.raw"
  kcat -C -b "$BROKERS" -t sluice.partitions -o beginning -e -q -f '%s\n' > "$T/notes.jsonl"
  (cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll(\"SELECT regexp_extract(filename, 'lake/(s[0-9])/(dt=[^/]+/hour=[0-9]+)', ['s', 'p']) AS k, count(*)::BIGINT FROM read_parquet('$T/lake/*/*/*/*.parquet', filename=true, hive_partitioning=false) GROUP BY 1\");
console.log(JSON.stringify(r.getRowsJson().map(([k, n]) => [k.s + '/' + k.p, Number(n)])));") > "$T/duck.json"
  (cd "$T" && "$SLUICE" partitions p.yaml --json) > "$T/partitions.json"
}
