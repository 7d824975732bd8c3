#!/usr/bin/env bash
# 0051 run-metrics: the HTTP endpoint of a running pipeline (docs/operations.md),
# checked by tools we did not write.
#
# dev-kafka, a 4-partition topic, events from `sluice gen` (4 log_ids: three
# streams routed by field, one with a filter, and one log_id of no stream) and
# three values from kcat that are not protobuf. The pipeline runs with
# http: { listen: 127.0.0.1:0, token_file } and a secret in source.properties.
# While it runs:
#   - STATE/http.addr names the port; without a token or with a wrong one
#     every route but /healthz is 401 (WWW-Authenticate: Bearer); /healthz is
#     200 without a token; an unknown path is 404, POST is 405;
#   - once everything is read and the inputs are idle, `promtool check
#     metrics` accepts /metrics, and its values equal what python-protobuf
#     counts in the same events (records and bytes in per stream, written and
#     filtered with the filter restated in Python, dead letters = unrouted + 3
#     kcat values), the inputs' offsets and high watermarks equal the ends kcat
#     reads from the broker, lag is 0 and every input idle;
#   - a real Prometheus (Debian's) scrapes it every second with the token from
#     its own credentials_file: its query API gives up == 1 and the play
#     stream's records_in_total equal to the python count;
#   - headless Chromium (Debian's, through playwright-core) loads the status
#     page with the token and finds every stream name in the stream table;
#   - `sluice status` prints every stream and exits 0; --json parses;
#   - the lake made full (SL_FAULT_ENOSPC): /healthz turns 503 without the
#     error text, /status says degraded (outputs failing, their partitions
#     paused, sluice_up 1, output retries counted) or retrying (sluice_up 0,
#     retries counted) with the error; counters never go back; once space is back /healthz is
#     200 again and the new records are counted;
#   - a hot reload (SIGHUP) removing a stream and adding one: the other
#     streams' counters go on from where they were, the removed stream's
#     series are gone, the added one starts at 0; a reload changing
#     http.listen is rejected and the endpoint stays;
#   - the secret appears in no response and no log line.
# After SIGTERM: exit 0, http.addr removed, `sluice status` exits 3 and shows
# the newest manifest's checkpoint. Every process started here is stopped on
# exit (trap), Prometheus and Chromium included.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0051"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
PY=/usr/bin/python3
RUN_PID=
PROM_PID=
stop_all() {
  local p
  for p in $RUN_PID $PROM_PID; do
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap stop_all EXIT # devkafka_start chains its own stop in front of this
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4

N=8000
SECRET="hunter2-e2e51-$$"
"$SLUICE" gen --count $N --streams 4 --seed 11 --span-s 7200 --output "$T/ev.pb" --quiet
"$SLUICE" gen --count $N --streams 4 --seed 11 --span-s 7200 --brokers "$BROKERS" --topic events --quiet
printf 'not protobuf\n\x1a\x05ab\n\x08\n' | kcat -P -b "$BROKERS" -t events -p 0
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
head -c 24 /dev/urandom | base64 > "$T/token"
chmod 600 "$T/token"
cat > "$T/p.yaml" <<YAML
pipeline: e2e51
state_dir: ./state
checkpoint: { interval: 1s }
workers: 2
http: { listen: "127.0.0.1:0", token_file: ./token }
source:
  kind: kafka
  brokers: $BROKERS
  topics: [events]
  properties: { sasl.username: e2e51, sasl.password: "$SECRET" }
schemas: [./play_event.proto]
defaults: { event_time: { idle_timeout: 2s } }
streams:
  - name: play
    route: { field: log_id, equals: "001000" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: web
    route: { field: log_id, equals: "001001" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { filter: "play_seconds > 30" }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: ads.v2
    route: { field: log_id, equals: "001002" }
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}", format: jsonl } ]
dead_letter: { kind: files, path: ./lake/_dead_letter }
YAML
"$PY" "$TOOLS/run_expect.py" --proto "$T/play_event.proto" --input "$T/ev.pb" \
  --stream play=001000 --stream "web=001001@m.play_seconds > 30" --stream ads.v2=001002 \
  --stream none=001003 > "$T/expect.json"

(cd "$T" && SL_FAULT_ENOSPC="$T/full" exec "$SLUICE" run p.yaml) 2> "$T/run.log" &
RUN_PID=$!
for _ in $(seq 200); do [ -s "$T/state/http.addr" ] && break; kill -0 $RUN_PID || break; sleep 0.1; done
[ -s "$T/state/http.addr" ] || { cat "$T/run.log"; fail "no state/http.addr"; }
A=$(cat "$T/state/http.addr")
case "$A" in 127.0.0.1:[1-9]*) ;; *) fail "http.addr '$A' is not 127.0.0.1:PORT" ;; esac
TOK="Authorization: Bearer $(cat "$T/token")"
code() { curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@"; }

# 1. authorization and routes
for path in / /metrics /status /nope; do
  [ "$(code "http://$A$path")" = 401 ] || fail "$path without a token: not 401"
  grep -qi '^WWW-Authenticate: Bearer' "$T/headers" || fail "$path: 401 without WWW-Authenticate: Bearer"
  [ "$(code -H "Authorization: Bearer wrong-$(cat "$T/token")" "http://$A$path")" = 401 ] || fail "$path with a wrong token: not 401"
done
[ "$(code "http://$A/healthz")" = 200 ] || fail "/healthz without a token: not 200"
[ "$(code -H "$TOK" "http://$A/nope")" = 404 ] || fail "unknown path: not 404"
[ "$(code -X POST -H "$TOK" "http://$A/metrics")" = 405 ] || fail "POST: not 405"
grep -qi '^Allow: GET, HEAD' "$T/headers" || fail "405 without Allow"

# 2. once all is read and idle: promtool, and the values against python-protobuf and kcat
for p in 0 1 2 3; do
  last=$(kcat -C -b "$BROKERS" -t events -p $p -o -1 -e -q -f '%o\n' | tail -1)
  echo "$p $((last + 1))"
done > "$T/ends.txt"
cat > "$T/metrics.py" <<'PY'
import json, re, sys
# the exposition text as {"name{label=value,...}": value}, labels sorted, pipeline dropped
out = {}
for line in open(sys.argv[1]):
    if line.startswith('#') or not line.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line.rstrip('\n'))
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ''))
    assert labels.pop('pipeline') == 'e2e51', line
    key = m.group(1) + '{' + ','.join(f'{k}={v}' for k, v in sorted(labels.items())) + '}'
    out[key] = float(m.group(3))
json.dump(out, sys.stdout)
PY
cat > "$T/check.py" <<'PY'
import json, sys
m, exp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ends = dict(l.split() for l in open(sys.argv[3]))
final = sys.argv[4] == 'final'
g = lambda k: m.get(k)
bad = []
def eq(k, want):
    if g(k) != want: bad.append(f'{k} = {g(k)}, expected {want}')
n_in = sum(e['in'] for e in exp.values()) + 3
eq('sluice_records_in_total{}', n_in)
eq('sluice_consumer_lag_records{}', 0)
for p, end in ends.items():
    eq(f'sluice_input_high_watermark{{partition={p},topic=events}}', int(end))
    if final:
        eq(f'sluice_input_offset{{partition={p},topic=events}}', int(end))
        eq(f'sluice_input_lag_records{{partition={p},topic=events}}', 0)
        eq(f'sluice_input_idle{{partition={p},topic=events}}', 1)
if final:
    eq('sluice_unrouted_records_total{}', exp['none']['in'])
    eq('sluice_dead_lettered_total{}', exp['none']['in'] + 3)
    for s in ('play', 'web', 'ads.v2'):
        e = exp[s]
        eq(f'sluice_stream_records_in_total{{stream={s}}}', e['in'])
        eq(f'sluice_stream_bytes_in_total{{stream={s}}}', e['bytes_in'])
        eq(f'sluice_stream_records_written_total{{stream={s}}}', e['rows'])
        eq(f'sluice_stream_records_filtered_total{{stream={s}}}', e['in'] - e['rows'])
        eq(f'sluice_stream_records_dead_lettered_total{{stream={s}}}', 0)
        if not g(f'sluice_stream_bytes_written_total{{stream={s}}}'): bad.append(f'{s}: no bytes written')
    if exp['web']['in'] == exp['web']['rows']: bad.append('test data: the filter drops nothing')
    if not g('sluice_checkpoints_total{}') or g('sluice_checkpoint_failures_total{}') != 0: bad.append('checkpoints')
    if g('sluice_up{}') != 1: bad.append('sluice_up is not 1')
if bad:
    print('\n'.join(bad)); sys.exit(1)
PY
ok=0
for _ in $(seq 300); do
  curl -sf -H "$TOK" "http://$A/metrics" > "$T/metrics.txt" || fail "GET /metrics with the token failed"
  "$PY" "$T/metrics.py" "$T/metrics.txt" > "$T/metrics.json"
  if "$PY" "$T/check.py" "$T/metrics.json" "$T/expect.json" "$T/ends.txt" idle > /dev/null; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || { "$PY" "$T/check.py" "$T/metrics.json" "$T/expect.json" "$T/ends.txt" idle || true; fail "records were not all read within 30 s"; }
ok=0
for _ in $(seq 100); do # until every input is idle (idle_timeout 2s)
  sleep 0.1
  curl -sf -H "$TOK" "http://$A/metrics" > "$T/metrics.txt"
  grep -q '^sluice_input_idle{.*} 0$' "$T/metrics.txt" || { ok=1; break; }
done
[ $ok = 1 ] || fail "inputs not idle 10 s after the last record"
promtool check metrics < "$T/metrics.txt" || fail "promtool check metrics rejects /metrics"
"$PY" "$T/metrics.py" "$T/metrics.txt" > "$T/metrics.json"
"$PY" "$T/check.py" "$T/metrics.json" "$T/expect.json" "$T/ends.txt" final || fail "/metrics disagrees with python-protobuf and kcat"

# 3. a real Prometheus scrapes it with the token
PP=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: sluice
    authorization: { type: Bearer, credentials_file: $T/token }
    static_configs: [ { targets: ["$A"] } ]
YAML
/usr/bin/prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$PP" --log.level=warn 2> "$T/prometheus.log" &
PROM_PID=$!
want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["play"]["in"])' "$T/expect.json")
q() { curl -sf --get "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
        "$PY" -c 'import json,sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r) == 1 else "none")'; }
ok=0
for _ in $(seq 150); do
  if [ "$(q 'up{job="sluice"}' 2>/dev/null)" = 1 ] &&
     [ "$(q 'sluice_stream_records_in_total{job="sluice",stream="play",pipeline="e2e51"}' 2>/dev/null)" = "$want" ]; then
    ok=1; break
  fi
  kill -0 $PROM_PID 2>/dev/null || { cat "$T/prometheus.log"; fail "prometheus exited"; }
  sleep 0.2
done
[ $ok = 1 ] || { cat "$T/prometheus.log"; fail "prometheus: up=$(q 'up' || true), play records_in=$(q 'sluice_stream_records_in_total{stream="play"}' || true), expected 1 and $want"; }
kill -TERM $PROM_PID; wait $PROM_PID 2>/dev/null || true; PROM_PID=

# 4. the status page in headless Chromium
(cd "$TOOLS" && node status_page.mjs "http://$A/" "$T/token" "$T/page.png") > "$T/page.json" || fail "status_page.mjs"
"$PY" - "$T/page.json" <<'PY' || fail "status page"
import json, sys
d = json.load(open(sys.argv[1]))
assert d['status'] == 200 and d['title'] == 'sluice: e2e51' and d['state'] == 'running', d
assert [r[0] for r in d['streams']] == ['play', 'web', 'ads.v2'], d['streams']
assert sorted(r[1] for r in d['inputs']) == ['0', '1', '2', '3'] and d['lag'] == '0 records', d
assert d['refresh'] == '5' and d['scripts'] == 0, d
PY

# 5. sluice status while it runs
(cd "$T" && "$SLUICE" status p.yaml) > "$T/status.txt" || fail "sluice status: exit $?"
for s in play web ads.v2; do grep -q "^$s " "$T/status.txt" || fail "sluice status does not list stream $s"; done
grep -q "^pipeline e2e51 (.*p.yaml): running" "$T/status.txt" || fail "sluice status: no running state"
(cd "$T" && "$SLUICE" status p.yaml --json) > "$T/status.json" || fail "sluice status --json"
"$PY" - "$T/status.json" "$T/expect.json" <<'PY' || fail "sluice status --json"
import json, sys
d, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d['state'] == 'running' and d['error'] is None, d
assert {s['name']: s['records_in'] for s in d['streams']} == {k: e[k]['in'] for k in ('play', 'web', 'ads.v2')}, d['streams']
assert len(d['inputs']) == 4 and all(i['lag'] == 0 for i in d['inputs']), d['inputs']
PY

# 6. the lake full: 503, degraded (outputs failing, their partitions
# paused: engine/retry.c) or retrying (the attempt failed); then back
before="$T/metrics.json"
touch "$T/full"
"$SLUICE" gen --count 40 --streams 4 --seed 12 --brokers "$BROKERS" --topic events --quiet
ok=0
for _ in $(seq 200); do [ "$(code "http://$A/healthz")" = 503 ] && { ok=1; break; }; sleep 0.1; done
[ $ok = 1 ] || fail "/healthz did not turn 503 while the lake is full"
grep -Eq '^(retrying|degraded)' "$T/body" || fail "/healthz 503 body: $(cat "$T/body")"
grep -qi 'space' "$T/body" && fail "/healthz shows the error text without a token"
curl -sf -H "$TOK" "http://$A/status" > "$T/retry.json"
curl -sf -H "$TOK" "http://$A/metrics" > "$T/metrics2.txt"
"$PY" "$T/metrics.py" "$T/metrics2.txt" > "$T/metrics2.json"
"$PY" - "$T/retry.json" "$before" "$T/metrics2.json" <<'PY' || fail "retrying state"
import json, sys
d, a, b = (json.load(open(f)) for f in sys.argv[1:4])
if d['state'] == 'retrying':
    assert 'No space left' in d['error'] and d['next_retry_ms'] > 0, d
    assert b['sluice_up{}'] == 0 and b['sluice_retries_total{}'] >= 1, b
else:
    assert d['state'] == 'degraded' and 'No space left' in d['error'], d
    assert b['sluice_up{}'] == 1 and b['sluice_output_retries_total{}'] >= 1, b
back = [k for k, v in a.items() if k.endswith('_total{}') or '_total{stream=' in k if b.get(k, -1) < v]
assert not back, f'counters went back: {back}'
PY
rm -f "$T/full"
ok=0
for _ in $(seq 400); do
  if [ "$(code "http://$A/healthz")" = 200 ]; then
    curl -sf -H "$TOK" "http://$A/metrics" > "$T/metrics3.txt"
    "$PY" "$T/metrics.py" "$T/metrics3.txt" > "$T/metrics3.json"
    "$PY" - "$T/metrics3.json" "$T/expect.json" <<'PY' && { ok=1; break; }
import json, sys
m, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n = sum(x['in'] for x in e.values()) + 3 + 40 # everything, read again after the retry
lags = [v for k, v in m.items() if k.startswith('sluice_input_lag_records{')]
offs = sum(v for k, v in m.items() if k.startswith('sluice_input_offset{'))
sys.exit(not (m['sluice_up{}'] == 1 and m['sluice_records_in_total{}'] >= n and offs == n
              and len(lags) == 4 and not any(lags)))
PY
  fi
  sleep 0.1
done
[ $ok = 1 ] || fail "the pipeline did not recover once space was back"

# 6b. a hot reload (SIGHUP) removes ads.v2 and adds extra: totals go on by name
curl -sf -H "$TOK" "http://$A/status" > "$T/before_reload.json"
sed -e 's/name: ads.v2/name: extra/' -e 's/equals: "001002"/equals: "001003"/' "$T/p.yaml" > "$T/p.yaml.new"
mv "$T/p.yaml.new" "$T/p.yaml"
kill -HUP $RUN_PID
for _ in $(seq 100); do grep -q '"result":"applied"' "$T/state/reloads.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"result":"applied"' "$T/state/reloads.jsonl" || fail "the reload was not applied: $(cat "$T/state/reloads.jsonl" 2>/dev/null)"
ok=0
for _ in $(seq 50); do
  curl -sf -H "$TOK" "http://$A/status" > "$T/after_reload.json"
  "$PY" - "$T/before_reload.json" "$T/after_reload.json" <<'PY' && { ok=1; break; }
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sa, sb = ({s['name']: s for s in d['streams']} for d in (a, b))
assert list(sb) == ['play', 'web', 'extra'], list(sb)
for n in ('play', 'web'):
    for k in ('records_in', 'records_written', 'filtered', 'bytes_in', 'bytes_written', 'files_published'):
        assert sb[n][k] == sa[n][k], (n, k, sa[n][k], sb[n][k])
assert b['records_in'] == a['records_in'] and b['dead_lettered'] == a['dead_lettered'], (a, b)
PY
  sleep 0.1
done
[ $ok = 1 ] || fail "after the reload the stream totals did not go on from where they were"
curl -sf -H "$TOK" "http://$A/metrics" > "$T/metrics4.txt"
promtool check metrics < "$T/metrics4.txt" || fail "promtool rejects /metrics after the reload"
grep -q 'stream="ads.v2"' "$T/metrics4.txt" && fail "/metrics still has the removed stream"
grep -q '^sluice_stream_records_in_total{pipeline="e2e51",stream="extra"} 0$' "$T/metrics4.txt" ||
  fail "/metrics has no zero series for the added stream"
# a reload that changes http.listen is rejected; the endpoint stays
cp "$T/p.yaml" "$T/p.yaml.ok"
sed 's/listen: "127.0.0.1:0"/listen: "127.0.0.1:1"/' "$T/p.yaml.ok" > "$T/p.yaml.new" && mv "$T/p.yaml.new" "$T/p.yaml"
kill -HUP $RUN_PID
for _ in $(seq 100); do grep -q '"result":"rejected"' "$T/state/reloads.jsonl" && break; sleep 0.1; done
grep '"result":"rejected"' "$T/state/reloads.jsonl" | grep -q 'http.listen' || fail "a reload changing http.listen was not rejected"
[ "$(code -H "$TOK" "http://$A/status")" = 200 ] || fail "the endpoint stopped answering after a rejected reload"
mv "$T/p.yaml.ok" "$T/p.yaml"

# 7. no secret anywhere
curl -sf -H "$TOK" "http://$A/" > "$T/page.html"
curl -sf -H "$TOK" "http://$A/status" > "$T/status2.json"
! grep -l -- "$SECRET" "$T"/metrics*.txt "$T/page.html" "$T"/status*.json "$T/status.txt" "$T/retry.json" "$T/run.log" ||
  fail "the sasl.password value appears above"

# 8. stopped: exit 0, http.addr removed, sluice status exits 3 from the manifest
kill -TERM $RUN_PID
rc=0; wait $RUN_PID || rc=$?
RUN_PID=
[ $rc = 0 ] || { tail -20 "$T/run.log"; fail "sluice run exited $rc after SIGTERM"; }
[ ! -e "$T/state/http.addr" ] || fail "state/http.addr left behind"
rc=0; (cd "$T" && "$SLUICE" status p.yaml) > "$T/stopped.txt" || rc=$?
[ $rc = 3 ] || fail "sluice status of a stopped pipeline: exit $rc, expected 3"
last=$(ls "$T/state/manifests" | grep -E '^[0-9]+\.manifest$' | sort | tail -1)
last=$((10#${last%.manifest}))
grep -q "not running" "$T/stopped.txt" || fail "sluice status does not say the pipeline is not running"
grep -q "^last checkpoint $last at " "$T/stopped.txt" || fail "sluice status does not show checkpoint $last: $(head -3 "$T/stopped.txt")"
rc=0; (cd "$T" && "$SLUICE" status p.yaml --json) > "$T/stopped.json" || rc=$?
[ $rc = 3 ] || fail "sluice status --json of a stopped pipeline: exit $rc"
"$PY" -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["running"] is False and d["checkpoint"] == int(sys.argv[2]) and len(d["inputs"]) == 4, d' \
  "$T/stopped.json" "$last" || fail "sluice status --json of a stopped pipeline"
echo "0051 ok"
