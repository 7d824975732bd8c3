#!/usr/bin/python3
"""Expected lake contents for a `sluice run` test, computed with protobuf's
own parser (python3-protobuf) from the same events the test produced.

usage: run_expect.py --proto play_event.proto --input EVENTS.pb
                     --stream NAME=LOGID[@FILTER] ... [--all NAME[@FILTER]]

Each record of the pb-delimited input is parsed by protobuf; it belongs to
the stream whose LOGID equals its log_id (or to --all NAME). FILTER is a
Python expression over the message `m` (protobuf's object) that keeps the
record when true; it is the test's independent statement of the pipeline's
etl.filter. Prints JSON: {stream: {"rows": N, "partitions": {"dt=D/hour=H": N},
"in": N, "bytes_in": N}} with D/H from event_time_ms in UTC; rows and partitions
count the records the filter keeps, in and bytes_in (their serialized sizes)
every record of the stream.
"""
import argparse, json, os, subprocess, sys, tempfile, datetime
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal.decoder import _DecodeVarint32

ap = argparse.ArgumentParser()
ap.add_argument('--proto', required=True)
ap.add_argument('--input', required=True)
ap.add_argument('--stream', action='append', default=[])
ap.add_argument('--all')
a = ap.parse_args()

with tempfile.TemporaryDirectory() as td:
    ds = os.path.join(td, 'ds.pb')
    subprocess.check_call(['protoc', '--include_imports', '-I', os.path.dirname(os.path.abspath(a.proto)),
                           '--descriptor_set_out', ds, os.path.abspath(a.proto)])
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(ds, 'rb').read())
pool = descriptor_pool.DescriptorPool()
for f in fds.file:
    pool.Add(f)
cls = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName('bench.PlayEvent'))

routes = {}
for s in a.stream:
    name, rest = s.split('=', 1)
    logid, _, filt = rest.partition('@')
    routes[logid] = (name, compile(filt, 'filter', 'eval') if filt else None)

out = {}
data = open(a.input, 'rb').read()
pos = 0
while pos < len(data):
    n, pos = _DecodeVarint32(data, pos)
    m = cls.FromString(data[pos:pos + n])
    pos += n
    if a.all:
        name, _, ftext = a.all.partition('@')
        filt = compile(ftext, 'filter', 'eval') if ftext else None
    elif m.log_id in routes:
        name, filt = routes[m.log_id]
    else:
        continue
    st = out.setdefault(name, {'rows': 0, 'partitions': {}, 'in': 0, 'bytes_in': 0})
    st['in'] += 1
    st['bytes_in'] += n
    if filt is not None and not eval(filt, {}, {'m': m}):
        continue
    t = datetime.datetime.fromtimestamp(m.event_time_ms // 1000, datetime.timezone.utc)
    key = 'dt=%s/hour=%02d' % (t.strftime('%Y-%m-%d'), t.hour)
    st['rows'] += 1
    st['partitions'][key] = st['partitions'].get(key, 0) + 1
for name, _ in routes.values():
    out.setdefault(name, {'rows': 0, 'partitions': {}, 'in': 0, 'bytes_in': 0})
json.dump(out, sys.stdout, sort_keys=True)
