#!/usr/bin/python3
"""commit_check.py - check a lake's committed hour partitions against the
input, for the partition-commit tests (0041, 0042).

usage: commit_check.py DIR PIPELINE MODE
DIR holds play_event.proto, events.raw (kcat -f '%p %S\\n%s\\n' of the input
topic), notes.jsonl (the notification topic), notified.log (the command
target's log), duck.json (DuckDB's row count per stream/partition) and
partitions.json (`sluice partitions --json`). MODE: exact (one notification
per committed partition) or atleast (crash runs: every id at least once, and
duplicates only of those ids). The watermark is computed here from the input,
as the issue defines it: min over Kafka partitions of the greatest event time,
minus each stream's max_out_of_orderness (120 s; 1 h for s3).
"""
import collections, datetime, glob, importlib, json, os, subprocess, sys
T, PIPE, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
subprocess.run(['protoc', '-I', T, '--python_out', T, os.path.join(T, 'play_event.proto')], check=True)
sys.path.insert(0, T); pb = importlib.import_module('play_event_pb2')
raw, i = open(os.path.join(T, 'events.raw'), 'rb').read(), 0
maxet, count = collections.defaultdict(lambda: -1), collections.Counter()
H = 3600000
while i < len(raw):
    nl = raw.index(b'\n', i); part, ln = map(int, raw[i:nl].split()); i = nl + 1
    m = pb.PlayEvent.FromString(raw[i:i + ln]); i += ln + 1
    maxet[part] = max(maxet[part], m.event_time_ms)
    count[('s%d' % (int(m.log_id) - 1000), m.event_time_ms // H * H)] += 1
frontier = min(maxet.values())
OOO = {'s0': 120000, 's1': 120000, 's2': 120000, 's3': 3600000}  # the pipeline file's values
wm = frontier - 120000
first = min(h for (_, h) in count)
def pname(h):
    t = datetime.datetime.fromtimestamp(h // 1000, datetime.timezone.utc)
    return t.strftime('dt=%Y-%m-%d/hour=%H')
duck = dict(json.load(open(os.path.join(T, 'duck.json'))))
expect = [(s, h) for s in ('s0', 's1', 's2', 's3') for h in range(first, frontier, H)
          if h + H <= frontier - OOO[s]]
bad = []
if len(expect) < 8: bad.append(f'test data too short: only {len(expect)} partitions to commit')
for s, h in expect:
    d = os.path.join(T, 'lake', s, pname(h))
    f = os.path.join(d, '_SUCCESS')
    if not os.path.exists(f): bad.append(f'{s} {pname(h)}: no _SUCCESS'); continue
    j = json.load(open(f))
    if j['rows'] != count[(s, h)]: bad.append(f"{s} {pname(h)}: _SUCCESS rows {j['rows']}, protobuf counts {count[(s, h)]}")
    if duck.get(f'{s}/{pname(h)}', 0) != count[(s, h)]: bad.append(f"{s} {pname(h)}: DuckDB {duck.get(f'{s}/{pname(h)}', 0)}, protobuf {count[(s, h)]}")
for s, h in expect:  # compacted: one file per committed partition (target 256MiB)
    d = os.path.join(T, 'lake', s, pname(h))
    n = len(glob.glob(os.path.join(d, '*.parquet')))
    if count[(s, h)] and n != 1: bad.append(f'{s} {pname(h)}: {n} files after compaction, want 1')
    if glob.glob(os.path.join(d, '.sluice+*')): bad.append(f'{s} {pname(h)}: hidden files left')
    if os.path.exists(os.path.join(d, '_SUCCESS')) and json.load(open(os.path.join(d, '_SUCCESS')))['files'] != n:
        bad.append(f'{s} {pname(h)}: _SUCCESS files differs from the directory ({n})')
committed = {(s, os.path.relpath(os.path.dirname(f), os.path.join(T, 'lake', s)))
             for s in ('s0', 's1', 's2', 's3') for f in glob.glob(os.path.join(T, 'lake', s, '*', '*', '_SUCCESS'))}
want = {(s, pname(h)) for s, h in expect}
if committed - want: bad.append(f'committed beyond the watermark: {sorted(committed - want)}')
if not any(count[('s3', h)] == 0 for _, h in expect): bad.append('the silent stream has no empty hour to commit')
ids = [json.loads(l)['id'] for l in open(os.path.join(T, 'notes.jsonl')) if l.strip()]
cmd = [l.split()[0] for l in open(os.path.join(T, 'notified.log'))]
if MODE == 'atleast':  # duplicates allowed, with the same id: compare the sets
    ids, cmd = sorted(set(ids)), sorted(set(cmd))
want_ids = {f'{PIPE}/{s}/{p}/v1' for s, p in want}
if sorted(ids) != sorted(want_ids): bad.append(f'kafka notifications: {len(ids)} ids, want exactly {len(want_ids)} distinct: {sorted(set(ids) ^ want_ids)[:5]}')
if sorted(cmd) != sorted(want_ids): bad.append('command notifications differ from the committed partitions')
# sluice partitions --json agrees
pj = json.load(open(os.path.join(T, 'partitions.json')))
listed = {(p['stream'], pname(p['hour_ms'])): p for p in pj['partitions']}
for s, p in want:
    q = listed.get((s, p))
    if not q or q['state'] != 'committed' or q['version'] != 1:
        bad.append(f'sluice partitions: {s} {p} is {q and q["state"]} v{q and q["version"]}, want committed v1')
for (s, p), q in listed.items():
    if (s, p) not in want and q['state'] != 'open':
        bad.append(f'sluice partitions: {s} {p} is {q["state"]} beyond the watermark')
if bad: sys.exit('FAIL: ' + '\n'.join(bad))
print(f'ok: watermark {wm}, {len(want)} partitions committed (4 streams), ' + ('exactly one notification each' if MODE == 'exact' else 'each announced at least once, duplicates with the same id'))
