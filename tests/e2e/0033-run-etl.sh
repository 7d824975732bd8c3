#!/usr/bin/env bash
# 0033 run-etl: batched and compressed Kafka values, a Lua transform, JSON
# input and a JSON-lines output, in one pipeline.
#
# - topic "batched": `sluice gen --batch 50 --batch-compression zstd` packs 50
#   length-delimited PlayEvents per message. The stream unpacks them, runs
#   clean.lua (drops plays under 10 s, masks the ip, upper-cases the buvid)
#   and writes Parquet. Expected rows: python-protobuf parses the same
#   events from a pb-delimited file and applies the same cleaning in Python.
# - topic "json": JSON lines (protobuf's JSON mapping) into a JSON-lines
#   output; python's json_format parses the same events and the test
#   compares mid, play_seconds and event_time_ms row by row (by offset).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0033"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic batched:2 --topic json:2
NB=5000 NJ=3000
"$SLUICE" gen --count $NB --seed 9 --streams 1 --output "$T/b.pb" --quiet
"$SLUICE" gen --count $NB --seed 9 --streams 1 --brokers "$BROKERS" --topic batched --batch 50 --batch-compression zstd --quiet
"$SLUICE" gen --count $NJ --seed 10 --streams 1 --format jsonl --output "$T/j.jsonl" --quiet
"$SLUICE" gen --count $NJ --seed 10 --streams 1 --format jsonl --brokers "$BROKERS" --topic json --quiet
# dead letters, as JSON lines: two values that are not JSON, a batch that is not a batch
printf 'bk1\t{"mid": "x"\nbk2\tnot json\n' | kcat -P -b "$BROKERS" -t json -p 0 -K '\t'
printf 'bk3\tgarbage\n' | kcat -P -b "$BROKERS" -t batched -p 1 -K '\t'
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/clean.lua" <<'LUA'
function transform(rec)
  if rec.play_seconds < 10 then return nil end
  rec.ip = "0.0.0.0"
  rec.buvid = string.upper(rec.buvid)
  return rec
end
LUA
cat > "$T/p.yaml" <<YAML
pipeline: e2e33
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [batched, json] }
schemas: [./play_event.proto]
streams:
  - name: batched
    route: { topic: batched }
    message: bench.PlayEvent
    framing: batch
    batch_compression: zstd
    event_time: { field: event_time_ms }
    etl: { script: ./clean.lua, metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
  - name: fromjson
    route: { topic: json }
    message: bench.PlayEvent
    format: json
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}", format: jsonl } ]
dead_letter: { kind: files, path: ./lake/_dead_letter, format: jsonl }
YAML
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" || { cat "$T/run.log"; fail "sluice run"; }
grep -q " unrouted=0 " "$T/run.log" || { cat "$T/run.log"; fail "no summary"; }
grep -q " dead_lettered=3 " "$T/run.log" || { cat "$T/run.log"; fail "not 3 dead letters"; }
kcat -C -b "$BROKERS" -t json -p 0 -o -2 -e -q -f '%k %o %T\n' > "$T/bad.idx"
kcat -C -b "$BROKERS" -t batched -p 1 -o -1 -e -q -f '%k %o %T\n' >> "$T/bad.idx"
/usr/bin/python3 - "$T" <<'PY' || fail "JSON-lines dead letters"
import base64, datetime, glob, json, sys
T = sys.argv[1]
src = {k: (int(o), int(t)) for k, o, t in (l.split() for l in open(T + '/bad.idx'))}
want = {'bk1': (b'{"mid": "x"', 'fromjson', 'json', 'record'), 'bk2': (b'not json', 'fromjson', 'json', 'record'),
        'bk3': (b'garbage', 'batched', 'batched', 'value')}
got = {}
for f in glob.glob(T + '/lake/_dead_letter/dt=*/hour=*/*.jsonl'):
    for line in open(f):
        d = json.loads(line)
        k = base64.b64decode(d['key_base64']).decode()
        h = datetime.datetime.fromtimestamp(d['hour'] / 1000, datetime.timezone.utc)
        assert f.split('/')[-3:-1] == [h.strftime('dt=%Y-%m-%d'), h.strftime('hour=%H')], (f, d)
        got[k] = d
assert sorted(got) == sorted(want), got
for k, (raw, stream, topic, kind) in want.items():
    d = got[k]
    off, ts = src[k]
    assert base64.b64decode(d['raw_base64']) == raw and d['stream'] == stream and d['topic'] == topic, d
    assert d['kind'] == kind and d['offset'] == off and d['kafka_timestamp'] == ts, (d, off, ts)
    assert d['hour'] == ts // 3600000 * 3600000 and d['pipeline'] == 'e2e33' and d['reason'], d
PY
(cd "$T" && "$SLUICE" audit p.yaml > audit.out) || { cat "$T/audit.out"; fail "sluice audit"; }

# batched + Lua: expected from python-protobuf with the cleaning in Python
/usr/bin/python3 - "$T/play_event.proto" "$T/b.pb" > "$T/b.expect" <<'PY'
import os, subprocess, sys, tempfile
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal.decoder import _DecodeVarint32
proto, data = sys.argv[1], open(sys.argv[2], 'rb').read()
with tempfile.TemporaryDirectory() as td:
    ds = os.path.join(td, 'ds')
    subprocess.check_call(['protoc', '--include_imports', '-I', os.path.dirname(proto), '--descriptor_set_out', ds, proto])
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(ds, 'rb').read())
pool = descriptor_pool.DescriptorPool()
for f in fds.file: pool.Add(f)
cls = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName('bench.PlayEvent'))
pos, rows = 0, []
while pos < len(data):
    n, pos = _DecodeVarint32(data, pos); m = cls.FromString(data[pos:pos + n]); pos += n
    if m.play_seconds < 10: continue
    rows.append((m.mid, m.play_seconds, m.buvid.upper(), '0.0.0.0'))
rows.sort()
print(len(rows)); print(sum(r[0] for r in rows) % 1000000007); print(sum(hash(r[2]) for r in rows[:0]))
for r in rows: print('%d|%d|%s|%s' % r)
PY
(cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = (await c.runAndReadAll(\"SELECT mid, play_seconds, buvid, ip FROM read_parquet('$T/lake/batched/**/*.parquet') ORDER BY mid, play_seconds, buvid\")).getRowsJson();
const d = (await c.runAndReadAll(\"SELECT count(*) - count(DISTINCT (_partition, _offset, mid)) FROM read_parquet('$T/lake/batched/**/*.parquet')\")).getRowsJson();
if (Number(d[0][0]) !== 0) { console.error('duplicates'); process.exit(1); }
console.log(r.length); let s = 0n; for (const x of r) s = (s + BigInt(x[0])) % 1000000007n; console.log(String(s)); console.log(0);
for (const x of r) console.log(x.join('|'));") > "$T/b.got"
cmp -s "$T/b.expect" "$T/b.got" || { diff "$T/b.expect" "$T/b.got" | head; fail "batched+Lua rows differ from python-protobuf"; }

# JSON in, JSON lines out
/usr/bin/python3 - "$T/j.jsonl" "$T/lake/fromjson" "$NJ" <<'PY'
import glob, json, sys
src = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for f in glob.glob(sys.argv[2] + '/**/*.jsonl', recursive=True) for l in open(f)]
n = int(sys.argv[3])
if len(got) != n: sys.exit(f'FAIL: {len(got)} JSON rows, expected {n}')
key = lambda r: (int(r['mid']), int(r['eventTimeMs'] if 'eventTimeMs' in r else r['event_time_ms']), int(r.get('playSeconds', r.get('play_seconds', 0))))
a = sorted(key(r) for r in src)
b = sorted((int(r['mid']), int(r['event_time_ms']), int(r['play_seconds'])) for r in got)
if a != b: sys.exit('FAIL: JSON-lines rows differ from the input events')
if len({(r['_partition'], r['_offset']) for r in got}) != n: sys.exit('FAIL: duplicate positions')
PY
echo "0033 ok"
