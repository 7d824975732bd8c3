#!/usr/bin/python3
"""audit_check.py - check a pipeline's audit counts against the input, for
e2e 0052 (per (stream, hour) audit counts, dead letters as Parquet).

usage: audit_check.py DIR PIPELINE [--early events.raw,clicks.raw]

DIR holds play_event.proto and click.proto, events.raw and clicks.raw (kcat
-f '%p %o %T %S\\n%s\\n' of the two input topics), lake/ and state/audit/,
duck_lake.json (DuckDB: [stream, dt, hour, rows] per hour directory) and
duck_dead.json (DuckDB: [stream, hour_ms, dir_dt, dir_hour, raw_base64] per
dead letter). Everything expected is computed here from the produced bytes
with python-protobuf and the pipeline's rules restated in Python:

  events (bench.PlayEvent, routed by log_id): 001000 -> s0, kept when
  play_seconds > 30 and platform != TV; 001001 -> s1 whose Lua script drops
  play_seconds < 10 and raises an error when play_seconds % 97 == 0 (a dead
  letter); any other log_id, or bytes that do not decode, belong to no
  stream (dead letters). clicks (audit.Click, routed by topic) -> clicks,
  kept when page != "spam"; bytes that do not decode, or a click without
  ts_ms, are dead letters.

A record counts in the hour of its event time (as decoded); without one (it
does not decode, ts_ms is absent) in the hour of its Kafka timestamp.
With --early, messages absent from those earlier dumps were produced after
the first run: those for an hour committed then are late (commit.late drop)
unless filtered, dropped or dead-lettered first.

Checks, for every committed (stream, hour) (a _SUCCESS in its directory):
the _SUCCESS "audit" object and the audit log's last line (greatest
checkpoint) equal the expected read, filtered, dead_lettered, late and
written; written equals DuckDB's row count of the directory; dead_lettered
equals DuckDB's count of the hour's dead letters of the stream, whose raw
bytes are exactly the produced bytes. Records of no stream: per hour, the
sum of the log's pipeline lines (each id once) and DuckDB's dead letters
without a stream equal the expected count, with the produced bytes. Hours
00-02 of every stream must be committed.
"""
import base64, collections, datetime, glob, importlib, json, os, subprocess, sys

T, PIPE = sys.argv[1], sys.argv[2]
H = 3600000
for proto in ('play_event.proto', 'click.proto'):
    subprocess.run(['protoc', '-I', T, '--python_out', T, os.path.join(T, proto)], check=True)
sys.path.insert(0, T)
pb = importlib.import_module('play_event_pb2')
cl = importlib.import_module('click_pb2')
from google.protobuf.message import DecodeError


def kcat_records(path):
    raw, i = open(path, 'rb').read(), 0
    while i < len(raw):
        nl = raw.index(b'\n', i)
        part, off, ts, ln = map(int, raw[i:nl].split())
        i = nl + 1
        yield part, off, ts, raw[i:i + ln]
        i += ln + 1


early = None  # (topic, partition, offset) of the first phase's messages
if len(sys.argv) > 4 and sys.argv[3] == '--early':
    early = set()
    for f, topic in zip(sys.argv[4].split(','), ('events', 'clicks')):
        early |= {(topic, p, o) for p, o, _, _ in kcat_records(os.path.join(T, f))}


def hour(ms):
    return ms // H * H


def pname(h):
    return datetime.datetime.fromtimestamp(h // 1000, datetime.timezone.utc).strftime('dt=%Y-%m-%d/hour=%H')


# the committed hours, from the lake's _SUCCESS files
committed = {}
for f in glob.glob(os.path.join(T, 'lake', '*', 'dt=*', 'hour=*', '_SUCCESS')):
    j = json.load(open(f))
    h = int(datetime.datetime.fromisoformat(j['hour_start'].replace('Z', '+00:00')).timestamp() * 1000)
    committed[(j['stream'], h)] = j

want = collections.defaultdict(lambda: collections.Counter())   # (stream, hour) -> counts
dead_raw = collections.defaultdict(list)                         # (stream or None, hour) -> [bytes]
nostream = collections.Counter()                                  # hour -> dead letters


def outcome(topic, p, o, stream, h, what, value):
    c = want[(stream, h)]
    c['read'] += 1
    if what == 'written' and early is not None and (topic, p, o) not in early and (stream, h) in committed_early:
        what = 'late'
    c[what] += 1
    if what == 'dead':
        dead_raw[(stream, h)].append(value)


# the second phase adds late records only, so no hour commits in it: the
# hours committed now are those of the first phase
committed_early = set(committed) if early is not None else set()
for p, o, ts, v in kcat_records(os.path.join(T, 'events.raw')):
    try:
        m = pb.PlayEvent.FromString(v)
    except DecodeError:
        nostream[hour(ts)] += 1
        dead_raw[(None, hour(ts))].append(v)
        continue
    h = hour(m.event_time_ms)
    if m.log_id == '001000':
        ok = m.play_seconds > 30 and m.platform != pb.TV
        outcome('events', p, o, 's0', h, 'written' if ok else 'filtered', v)
    elif m.log_id == '001001':
        what = 'filtered' if m.play_seconds < 10 else 'dead' if m.play_seconds % 97 == 0 else 'written'
        outcome('events', p, o, 's1', h, what, v)
    else:
        nostream[hour(ts)] += 1
        dead_raw[(None, hour(ts))].append(v)
for p, o, ts, v in kcat_records(os.path.join(T, 'clicks.raw')):
    try:
        m = cl.Click.FromString(v)
    except DecodeError:
        outcome('clicks', p, o, 'clicks', hour(ts), 'dead', v)
        continue
    h = hour(m.ts_ms) if m.HasField('ts_ms') else hour(ts)
    if m.page == 'spam':
        outcome('clicks', p, o, 'clicks', h, 'filtered', v)
    elif not m.HasField('ts_ms'):
        outcome('clicks', p, o, 'clicks', h, 'dead', v)
    else:
        outcome('clicks', p, o, 'clicks', h, 'written', v)

# the audit log: last line per (stream, hour); deltas once per id
last, deltas = {}, {}
for f in sorted(glob.glob(os.path.join(T, 'state', 'audit', 'audit-*.jsonl'))):
    for line in open(f):
        if not line.endswith('\n'):
            continue
        j = json.loads(line)
        if j['kind'] in ('commit', 'update'):
            k = (j['stream'], j['hour_start_ms'])
            if k not in last or j['checkpoint'] >= last[k]['checkpoint']:
                last[k] = j
        else:
            deltas[j['id']] = j
duck = {(s, d, h): int(n) for s, d, h, n in json.load(open(os.path.join(T, 'duck_lake.json')))}
dead = collections.defaultdict(list)
for s, h, dd, dh, r in json.load(open(os.path.join(T, 'duck_dead.json'))):
    h = int(h)
    if pname(h) != f'dt={dd}/hour={dh}':
        sys.exit(f'FAIL: a dead letter of hour {pname(h)} lies in dt={dd}/hour={dh}')
    dead[(s, h)].append(base64.b64decode(r))

bad = []
for s in ('s0', 's1', 'clicks'):
    for k in range(3):
        if (s, 1764547200000 + k * H) not in committed:
            bad.append(f'{s} {pname(1764547200000 + k * H)}: not committed')
for (s, h), j in sorted(committed.items()):
    e = want[(s, h)]
    exp = {'read': e['read'], 'filtered': e['filtered'], 'dead_lettered': e['dead'], 'late': e['late'],
           'written': e['written']}
    if e['read'] - e['written'] - e['filtered'] - e['dead'] - e['late']:
        bad.append(f'{s} {pname(h)}: the expectation itself does not add up')
    if j.get('audit') != exp and early is None:
        bad.append(f'{s} {pname(h)}: _SUCCESS audit {j.get("audit")}, expected {exp}')
    got = last.get((s, h))
    if not got or {k: got[k] for k in exp} != exp:
        bad.append(f'{s} {pname(h)}: audit log {got and {k: got[k] for k in exp}}, expected {exp}')
    d, hh = pname(h).split('/')
    if duck.get((s, d[3:], hh[5:]), 0) != e['written']:
        bad.append(f'{s} {pname(h)}: DuckDB counts {duck.get((s, d[3:], hh[5:]), 0)} rows, expected written {e["written"]}')
    if sorted(dead[(s, h)]) != sorted(dead_raw[(s, h)]):
        bad.append(f'{s} {pname(h)}: {len(dead[(s, h)])} dead letters in the lake, expected {len(dead_raw[(s, h)])} (or other bytes)')
# records of no stream
logged = collections.Counter()
for j in deltas.values():
    if j['kind'] == 'pipeline':
        if j['read'] != j['dead_lettered'] or j['stream'] is not None:
            bad.append(f'pipeline line {j["id"]}: read {j["read"]}, dead {j["dead_lettered"]}')
        logged[j['hour_start_ms']] += j['dead_lettered']
if dict(logged) != dict(nostream):
    bad.append(f'records of no stream: the audit log has {dict(logged)}, expected {dict(nostream)}')
for h, n in nostream.items():
    if sorted(dead[(None, h)]) != sorted(dead_raw[(None, h)]):
        bad.append(f'no stream {pname(h)}: {len(dead[(None, h)])} dead letters in the lake, expected {n}')
n_dead = sum(e['dead'] for (s, h), e in want.items() if (s, h) in committed)
n_filt = sum(e['filtered'] for (s, h), e in want.items() if (s, h) in committed)
n_late = sum(e['late'] for (s, h), e in want.items() if (s, h) in committed)
if not (n_dead and n_filt and sum(nostream.values())):
    bad.append(f'test data too thin: {n_dead} dead, {n_filt} filtered, {sum(nostream.values())} of no stream in committed hours')
if early is not None and not n_late:
    bad.append('no late record in the second phase')
if bad:
    sys.exit('FAIL: ' + '\n'.join(bad))
print(f'ok: {len(committed)} committed partitions: read, filtered ({n_filt}), dead_lettered ({n_dead}), '
      f'late ({n_late}) and written as computed from the input; {sum(nostream.values())} records of no stream')
