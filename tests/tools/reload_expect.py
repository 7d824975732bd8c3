#!/usr/bin/python3
"""reload_expect.py - what a pipeline that was reloaded while it ran must have
written, from the topic as kcat read it and protobuf's own parser, and
whether the lake (as DuckDB read it) holds exactly that.

usage: reload_expect.py --proto NEW.proto --tmp DIR --kcat DUMP --reloads STATE/reloads.jsonl
                        --phase 'a=001000@m.play_seconds > 30,b=001001' --phase ... --lake ROWS.json

--kcat: kcat -C -f '%p %o %T %K %k %S %h\\n%s\\n' of the input topic (see
kafka_check_gen.py). --reloads: the pipeline's record of reloads; its
applied lines give the boundaries: a message at (partition, offset) is
handled by configuration k when exactly k applied reloads have a position
<= offset for its partition (a partition a reload does not list had nothing
read yet: position 0). --phase (one per configuration, in order):
the streams of that configuration, NAME=LOGID[@FILTER] with FILTER a Python
expression over the message m (the test's own statement of etl.filter).
--lake: JSON {stream: [[partition, offset], ...]} of the rows DuckDB reads.
Checks that every stream holds exactly the expected (partition, offset)
pairs, each once, and prints per stream and configuration the counts.
"""
import argparse, json, os, sys, collections

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_check_gen import load_pb, read_kcat  # noqa: E402


def parse_phase(text):
    streams = []
    for part in text.split(','):
        name, rest = part.split('=', 1)
        logid, _, flt = rest.partition('@')
        streams.append((name.strip(), logid.strip(), flt.strip() or 'True'))
    return streams


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--proto', required=True)
    ap.add_argument('--tmp', required=True)
    ap.add_argument('--kcat', required=True)
    ap.add_argument('--reloads', required=True)
    ap.add_argument('--phase', action='append', required=True)
    ap.add_argument('--lake', required=True)
    a = ap.parse_args()
    pb = load_pb(a.proto, a.tmp)
    phases = [parse_phase(p) for p in a.phase]
    bounds = []
    for line in open(a.reloads):
        r = json.loads(line)
        if r['result'] == 'applied':
            bounds.append({(p['topic'], p['partition']): p['offset'] for p in r['positions']})
    if len(bounds) != len(phases) - 1:
        sys.exit(f'FAIL: {len(bounds)} applied reloads recorded, the test made {len(phases) - 1}')
    expect = collections.defaultdict(set)
    counts = collections.Counter()
    for p, o, _ts, _key, _hdrs, val in read_kcat(a.kcat):
        # a partition missing from a reload's positions had nothing read yet:
        # all of it is read under the new configuration
        k = sum(1 for b in bounds if b.get(('events', p), 0) <= o)
        m = pb.PlayEvent()
        try:
            m.ParseFromString(val)
        except Exception:
            continue  # not protobuf: dead letter
        for name, logid, flt in phases[k]:
            if m.log_id == logid:
                if eval(flt, {}, {'m': m}):
                    expect[name].add((p, o))
                    counts[(name, k)] += 1
                break
    lake = json.load(open(a.lake))
    ok = True
    for name in sorted(set(expect) | set(lake)):
        got = [tuple(x) for x in lake.get(name, [])]
        gs = set(got)
        if len(got) != len(gs):
            print(f'FAIL: {name}: {len(got) - len(gs)} duplicate rows')
            ok = False
        missing, extra = expect[name] - gs, gs - expect[name]
        if missing or extra:
            print(f'FAIL: {name}: {len(missing)} expected rows missing (e.g. {sorted(missing)[:3]}), '
                  f'{len(extra)} unexpected (e.g. {sorted(extra)[:3]})')
            ok = False
        per = ', '.join(f'config {k}: {counts[(name, k)]}' for k in range(len(phases)))
        print(f'{"ok" if ok else "  "}: {name}: {len(gs)} rows ({per})')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
