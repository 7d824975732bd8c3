#!/usr/bin/env bash
# 0040 notify: partition-commit notifications to real peers (engine/notify.h),
# driven by `test_notify send` (tests/unit/test_notify.c, built next to
# $SLUICE), which sends events i = 0..N-1 whose fields follow a formula
# (stream play, partition dt=2025-12-01/hour=10+i, rows 1000+i, ...). The
# expectations are built from that formula here, in python, with datetime
# for the times - never from sluice's output.
#
# 1. Three events to a Kafka topic (sluice dev-kafka, read back with kcat),
#    a webhook (webhook_server.py, answering the first 2 requests 503) and a
#    command (fails its first run). Every event arrives at every target at
#    least once with the exact payload; duplicates carry the same id (the
#    503'd requests too); the id is the Kafka key and `sluice-id` header,
#    X-Sluice-Id, SLUICE_ID; the command ran in --cwd and saw every
#    SLUICE_* variable. The webhook URL's query (a token) is never printed.
# 2. A webhook answering 404 fails at once (not retriable, one request).
# 3. A webhook where nothing listens fails after the deadline, retriable.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0040"
rm -rf "$T" && mkdir -p "$T/cmd"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
DRIVER="$(dirname "$SLUICE")/test_notify"
[ -x "$DRIVER" ] || fail "$DRIVER not built (cmake --build ... --target test_notify)"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

SERVER_PIDS=()
stop_servers() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap stop_servers EXIT # devkafka_start chains its own stop in front of this
start_server() { # $1: name, then webhook_server.py options; sets PORT
  local name=$1 i
  shift
  /usr/bin/python3 "$TOOLS/webhook_server.py" --port-file "$T/$name.port" --record "$T/$name.jsonl" \
    "$@" 2> "$T/$name.log" &
  SERVER_PIDS+=($!)
  for ((i = 0; i < 200; i++)); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
  [ -s "$T/$name.port" ] || { cat "$T/$name.log" >&2; fail "webhook server $name did not start"; }
  PORT=$(cat "$T/$name.port")
  touch "$T/$name.jsonl"
}

source "$TOOLS/devkafka.sh"
devkafka_start --topic sluice.partitions:1

# 1. all three targets, with failures to retry
start_server hook --fail-first 2
cat > "$T/cmd/on-ready.sh" <<'SH'
#!/bin/sh
if [ ! -e first-failed ]; then touch first-failed; echo "on-ready: failing on purpose" >&2; exit 5; fi
/usr/bin/python3 -c 'import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith("SLUICE_")}))' >> events.jsonl
SH
chmod +x "$T/cmd/on-ready.sh"
"$DRIVER" send --brokers "$BROKERS" --topic sluice.partitions \
  --webhook "http://127.0.0.1:$PORT/ready?token=s3cr3tTok" --command ./on-ready.sh --cwd "$T/cmd" \
  --count 3 --deadline 30000 > "$T/send1.out" 2> "$T/send1.err" ||
  { cat "$T/send1.err" >&2; fail "send to all targets"; }
grep -q s3cr3tTok "$T/send1.out" "$T/send1.err" && fail "the webhook token was printed"
grep -q "HTTP 503" "$T/send1.err" || fail "no 503 retry was logged"
kcat -C -b "$BROKERS" -t sluice.partitions -o beginning -e -q -f '%k\t%h\t%s\n' > "$T/kafka.out"
/usr/bin/python3 - "$T" 3 <<'PY'
import datetime as dt, json, sys
T, N = sys.argv[1], int(sys.argv[2])
utc = dt.timezone.utc
def rfc(t):
    s = t.strftime('%Y-%m-%dT%H:%M:%S')
    return s + (f'.{t.microsecond // 1000:03d}' if t.microsecond else '') + 'Z'
want = {}
for i in range(N):
    hs = dt.datetime(2025, 12, 1, 10 + i, tzinfo=utc)
    wm = hs + dt.timedelta(hours=1, milliseconds=30250)
    part = f'dt=2025-12-01/hour={10 + i:02d}'
    ev = {'id': f'e2e40/play/{part}/v1', 'pipeline': 'e2e40', 'stream': 'play', 'partition': part,
          'path': f'/lake/play/{part}', 'version': 1, 'rows': 1000 + i, 'files': 1 + i,
          'bytes': 4096 * (i + 1), 'hour_start': rfc(hs), 'watermark': rfc(wm),
          'watermark_ms': int(wm.timestamp() * 1000)}
    want[ev['id']] = (ev, hs, wm)
def check_event(where, got):
    ev, hs, wm = want.get(got.get('id'), (None, None, None))
    if ev is None: sys.exit(f'FAIL: {where}: unexpected event {got}')
    if got != ev or list(got) != list(ev): sys.exit(f'FAIL: {where}: payload\n got  {got}\n want {ev}')
    if dt.datetime.fromisoformat(got['hour_start']) != hs or dt.datetime.fromisoformat(got['watermark']) != wm:
        sys.exit(f'FAIL: {where}: times do not parse back to the hour start/watermark')
    return got['id']
# kafka: key = id, header sluice-id = id, value = the JSON
seen = set()
for line in open(f'{T}/kafka.out'):
    key, hdr, val = line.rstrip('\n').split('\t', 2)
    i = check_event('kafka', json.loads(val))
    if key != i or hdr != f'sluice-id={i}': sys.exit(f'FAIL: kafka: key {key!r} / headers {hdr!r} for {i}')
    seen.add(i)
if seen != set(want): sys.exit(f'FAIL: kafka: got ids {sorted(seen)}')
# webhook: the first 2 requests got 503 and carry the id of the event resent next
recs = [json.loads(l) for l in open(f'{T}/hook.jsonl')]
if [r['status'] for r in recs[:2]] != [503, 503]: sys.exit(f'FAIL: webhook: first statuses {recs[:3]}')
if recs[0]['headers']['x-sluice-id'] != recs[2]['headers']['x-sluice-id']: sys.exit('FAIL: webhook: a retry changed the id')
seen = set()
for r in recs:
    i = check_event('webhook', json.loads(r['body']))
    h = r['headers']
    if r['method'] != 'POST' or r['path'] != '/ready?token=s3cr3tTok' or h.get('x-sluice-id') != i \
            or h.get('content-type') != 'application/json':
        sys.exit(f'FAIL: webhook: request {r}')
    if r['status'] == 200: seen.add(i)
if seen != set(want) or len(recs) != N + 2: sys.exit(f'FAIL: webhook: {len(recs)} requests, ids {sorted(seen)}')
# command: ran in --cwd, failed once, then one run per event with the variables
envs = [json.loads(l) for l in open(f'{T}/cmd/events.jsonl')]
names = ['ID', 'PIPELINE', 'STREAM', 'PARTITION', 'PATH', 'VERSION', 'ROWS', 'FILES', 'BYTES', 'HOUR_START', 'WATERMARK']
seen = set()
for e in envs:
    i = check_event('command SLUICE_EVENT', json.loads(e['SLUICE_EVENT']))
    ev = want[i][0]
    for k in names:
        if e.get('SLUICE_' + k) != str(ev[k.lower()]): sys.exit(f'FAIL: command: SLUICE_{k}={e.get("SLUICE_" + k)!r}, want {ev[k.lower()]!r}')
    seen.add(i)
if seen != set(want) or len(envs) != N: sys.exit(f'FAIL: command: {len(envs)} runs, ids {sorted(seen)}')
print(f'targets ok: {N} events on kafka, webhook ({len(recs)} requests, 2 answered 503), command')
PY
[ -e "$T/cmd/first-failed" ] || fail "the command's failing first run did not happen"

# 2. 404: fails at once, one request, not retriable (driver exit 3)
start_server h404 --status 404
t0=$(date +%s%N)
rc=0
"$DRIVER" send --webhook "http://u:pw@127.0.0.1:$PORT/wrong" --pipeline e2e40b --count 1 --deadline 30000 \
  > /dev/null 2> "$T/send2.err" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 3 ] || { cat "$T/send2.err" >&2; fail "404: exit $rc, want 3 (not retriable)"; }
grep -q "webhook http://127.0.0.1:$PORT/wrong: event e2e40b/play/dt=2025-12-01/hour=10/v1: HTTP 404" "$T/send2.err" ||
  { cat "$T/send2.err" >&2; fail "404: unclear error"; }
grep -q ':pw@' "$T/send2.err" && fail "404: the URL's password was printed"
[ "$(wc -l < "$T/h404.jsonl")" = 1 ] || fail "404: $(wc -l < "$T/h404.jsonl") requests, want 1"
((ms < 5000)) || fail "404 took $ms ms: not fast"
echo "404 ok: $(tail -n1 "$T/send2.err") ($ms ms)"

# 3. nothing listens: retriable error after the deadline (driver exit 2)
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t0=$(date +%s%N)
rc=0
"$DRIVER" send --webhook "http://127.0.0.1:$port/x" --pipeline e2e40c --count 1 --deadline 2000 \
  > /dev/null 2> "$T/send3.err" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 2 ] || { cat "$T/send3.err" >&2; fail "unreachable: exit $rc, want 2 (retriable)"; }
grep -q "webhook http://127.0.0.1:$port/x: event e2e40c/play/dt=2025-12-01/hour=10/v1: .*retriable" "$T/send3.err" ||
  { cat "$T/send3.err" >&2; fail "unreachable: unclear error"; }
((ms >= 1900 && ms < 6000)) || fail "unreachable: took $ms ms for a 2000 ms deadline"
echo "unreachable ok: $(tail -n1 "$T/send3.err") ($ms ms)"
# 4. Kafka brokers down (dev-kafka SIGUSR1): retriable error after the deadline
kill -USR1 "$DEVKAFKA_PID"
t0=$(date +%s%N)
rc=0
"$DRIVER" send --brokers "$BROKERS" --topic sluice.partitions --pipeline e2e40d --count 1 \
  --deadline 2000 > /dev/null 2> "$T/send4.err" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -USR2 "$DEVKAFKA_PID"
[ "$rc" = 2 ] || { cat "$T/send4.err" >&2; fail "brokers down: exit $rc, want 2 (retriable)"; }
grep -q "kafka topic sluice.partitions: event e2e40d/play/dt=2025-12-01/hour=10/v1: .*retriable" "$T/send4.err" ||
  { cat "$T/send4.err" >&2; fail "brokers down: unclear error"; }
((ms >= 1900 && ms < 8000)) || fail "brokers down: took $ms ms for a 2000 ms deadline"
echo "brokers down ok: $(tail -n1 "$T/send4.err") ($ms ms)"
echo "0040 ok"
