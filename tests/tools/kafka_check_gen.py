#!/usr/bin/python3
"""kafka_check_gen.py - check what `sluice gen --brokers` put into a topic,
as read back by kcat, against `sluice gen --format pb-delimited` of the same
options, with protobuf's own Python parser (not sluice's decoder).

kcat must have been run with
  -f '%p %o %T %K %k %S %h\\n%s\\n'
so each message is one text line (partition, offset, timestamp, key length,
key, value length, headers) followed by exactly value-length bytes and a
newline: length-safe for binary values.

Checks: the multiset of values equals the file's records (same events, each
exactly once); per message: key == str(mid), header log_id == log_id,
timestamp == event_time_ms; per partition, offsets ascend by one and events
keep the generator's order (the record index from the file increases).
With --jsonl, values are JSON lines (compared as parsed messages).
"""
import argparse, importlib, os, subprocess, sys, collections


def load_pb(proto, tmp):
    d = os.path.dirname(os.path.abspath(proto))
    subprocess.run(["protoc", "-I", d, "--python_out", tmp, os.path.abspath(proto)], check=True)
    sys.path.insert(0, tmp)
    mod = os.path.splitext(os.path.basename(proto))[0] + "_pb2"
    return importlib.import_module(mod)


def read_delimited(path):
    from google.protobuf.internal.decoder import _DecodeVarint
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        n, pos = _DecodeVarint(data, pos)
        out.append(data[pos:pos + n])
        pos += n
    return out


def read_kcat(path):
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        nl = data.index(b"\n", pos)
        head = data[pos:nl].decode()
        parts = head.split(" ", 6)
        p, o, ts, klen = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])
        key = parts[4]
        vlen = int(parts[5])
        hdrs = parts[6] if len(parts) > 6 else ""
        if len(key) != max(klen, 0):  # -1: no key
            raise SystemExit(f"FAIL: message p{p}@{o}: key length {klen} != len({key!r})")
        val = data[nl + 1:nl + 1 + vlen]
        if data[nl + 1 + vlen:nl + 2 + vlen] != b"\n":
            raise SystemExit(f"FAIL: kcat output not framed as expected at p{p}@{o}")
        pos = nl + 2 + vlen
        out.append((p, o, ts, key, hdrs, val))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--expect", required=True, help="pb-delimited file of the same events")
    ap.add_argument("--kcat", required=True)
    ap.add_argument("--jsonl", action="store_true")
    ap.add_argument("--partitions", type=int, default=0, help="expected number of partitions used")
    a = ap.parse_args()
    pb = load_pb(a.proto, a.tmp)
    from google.protobuf import json_format
    exp = read_delimited(a.expect)
    index = {}
    for i, raw in enumerate(exp):
        m = pb.PlayEvent()
        m.ParseFromString(raw)
        if m.SerializeToString(deterministic=True) != raw:
            raise SystemExit(f"FAIL: expected record {i} is not canonical protobuf")
        index.setdefault(raw, []).append(i)
    msgs = read_kcat(a.kcat)
    if len(msgs) != len(exp):
        raise SystemExit(f"FAIL: {len(msgs)} messages in the topic, {len(exp)} events expected")
    last = {}
    used = collections.Counter()
    for p, o, ts, key, hdrs, val in msgs:
        m = pb.PlayEvent()
        if a.jsonl:
            json_format.Parse(val.decode(), m)
            raw = m.SerializeToString(deterministic=True)
        else:
            m.ParseFromString(val)
            raw = val
        if raw not in index or used[raw] >= len(index[raw]):
            raise SystemExit(f"FAIL: p{p}@{o}: value is not one of the expected events "
                             f"(or appears too often)")
        i = index[raw][used[raw]]
        used[raw] += 1
        if key != str(m.mid):
            raise SystemExit(f"FAIL: p{p}@{o}: key {key!r} != mid {m.mid}")
        if hdrs != f"log_id={m.log_id}":
            raise SystemExit(f"FAIL: p{p}@{o}: headers {hdrs!r} != log_id={m.log_id}")
        if ts != m.event_time_ms:
            raise SystemExit(f"FAIL: p{p}@{o}: timestamp {ts} != event_time_ms {m.event_time_ms}")
        if p in last:
            lo, li = last[p]
            if o != lo + 1:
                raise SystemExit(f"FAIL: partition {p}: offset {o} after {lo}")
            if i <= li:
                raise SystemExit(f"FAIL: partition {p}: event {i} after event {li} (order lost)")
        last[p] = (o, i)
    if a.partitions and len(last) != a.partitions:
        raise SystemExit(f"FAIL: events in {len(last)} partitions, expected {a.partitions}")
    print(f"ok: {len(msgs)} messages in {len(last)} partitions match the expected events")


if __name__ == "__main__":
    main()
