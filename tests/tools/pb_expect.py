#!/usr/bin/python3
"""Reference rows for pb-delimited input, decoded by python-protobuf.

usage: pb_expect.py --proto FILE.proto --message PKG.Msg --input IN.pb
                    --out EXPECTED.jsonl --bad BAD.txt [--not-ours IDX_FILE]

Every record is parsed by protobuf's own parser (Debian's python3-protobuf;
the .proto is compiled by protoc into a descriptor set and loaded into a
descriptor pool) and printed as a canonical row (tests/tools/rowcmp.py)
following sluice's protobuf -> Parquet mapping (DESIGN.md, Formats):
  - proto3 implicit-presence scalars: their value (default when absent);
    fields with presence (optional, proto2 optional, oneof members,
    messages): null when absent - an absent proto2 field with a declared
    default is null too;
  - enums: the value's name (first declared name for aliases); an unknown
    number of an open enum: its decimal text;
  - bytes: base64; uint64/fixed64: unsigned; float/double NaN/inf: strings;
  - repeated: a list; map: a list of {"key", "value"} - the entries
    protobuf's map holds (last value of a key wins), in the order in which
    each key first appeared on the wire. protobuf's map does not keep an
    order, so the order comes from a second parse of the same bytes with a
    shadow schema in which map entries are plain repeated messages; the
    keys and values still come from the real map.
Records protobuf rejects (parse error, or missing proto2 required fields)
are "expected bad": they produce no row and go to --bad as "IDX rejected"
(0-based index). --not-ours lists records that pb_adversarial.py marks bad
by sluice's own stricter rules: they produce no row either and go to --bad
as "IDX ours" when protobuf accepts them (as "IDX rejected" when it does
not, which the e2e test then reports as a wrong classification).

The conversion is exposed as to_row(msg) / load_message_class(proto, name)
for other reference scripts (json_expect.py).
"""
import argparse, base64, math, os, subprocess, sys, tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor as FD


def compile_set(proto):
    """FileDescriptorSet (parsed) of a .proto file, via protoc."""
    d = tempfile.mkdtemp(prefix="pb_expect_")
    out = os.path.join(d, "set.desc")
    subprocess.run(["protoc", "--include_imports", "--descriptor_set_out=" + out,
                    "-I" + os.path.dirname(os.path.abspath(proto)), os.path.abspath(proto)],
                   check=True)
    with open(out, "rb") as f:
        return descriptor_pb2.FileDescriptorSet.FromString(f.read())


def class_from_set(fds, name):
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    desc = pool.FindMessageTypeByName(name)
    factory = message_factory.MessageFactory(pool)
    get = getattr(factory, "GetMessageClass", None) or factory.GetPrototype
    return get(desc)


def shadow_set(fds):
    """The same set with map entries turned into plain messages."""
    s = descriptor_pb2.FileDescriptorSet()
    s.CopyFrom(fds)

    def walk(msgs):
        for m in msgs:
            if m.options.map_entry:
                m.options.map_entry = False
            walk(m.nested_type)
    for f in s.file:
        walk(f.message_type)
    return s


def load_message_class(proto, name):
    fds = compile_set(proto)
    return class_from_set(fds, name), class_from_set(shadow_set(fds), name)


def fnum(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def scalar(fd, v):
    t = fd.type
    if t == FD.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(v)
        return ev.name if ev is not None else str(v)
    if t == FD.TYPE_BYTES:
        return base64.b64encode(v).decode()
    if t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return fnum(v)
    if t == FD.TYPE_BOOL:
        return bool(v)
    return v


def is_map(fd):
    return (fd.type == FD.TYPE_MESSAGE and fd.label == FD.LABEL_REPEATED
            and fd.message_type.GetOptions().map_entry)


def has_presence(fd):
    if fd.label == FD.LABEL_REPEATED:
        return False
    if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
        return True
    return fd.has_presence


def map_rows(fd, real, shadow_entries):
    """[{key, value}] in first-appearance order of keys."""
    vfd = fd.message_type.fields_by_name["value"]
    kfd = fd.message_type.fields_by_name["key"]
    order, seen, last = [], set(), {}
    for e in shadow_entries if shadow_entries is not None else []:
        k = e.key
        last[k] = e.value if vfd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP) else None
        if k not in seen and k in real:
            seen.add(k)
            order.append(k)
    for k in real:  # no shadow (to_row used alone): any order
        if k not in seen:
            seen.add(k)
            order.append(k)
    out = []
    for k in order:
        v = real[k]
        if vfd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            val = to_row(v, last.get(k))
        else:
            val = scalar(vfd, v)
        out.append({"key": scalar(kfd, k), "value": val})
    return out


def to_row(msg, shadow):
    """Canonical row (dict) of a parsed message; shadow: the same bytes parsed
    with shadow_set's class (for map order), or None."""
    row = {}
    for fd in msg.DESCRIPTOR.fields:
        v = getattr(msg, fd.name)
        sv = getattr(shadow, fd.name) if shadow is not None else None
        if is_map(fd):
            row[fd.name] = map_rows(fd, v, sv)
        elif fd.label == FD.LABEL_REPEATED:
            if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
                row[fd.name] = [to_row(x, sv[i] if sv is not None else None)
                                for i, x in enumerate(v)]
            else:
                row[fd.name] = [scalar(fd, x) for x in v]
        elif has_presence(fd) and not msg.HasField(fd.name):
            row[fd.name] = None
        elif fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            row[fd.name] = to_row(v, sv)
        else:
            row[fd.name] = scalar(fd, v)
    return row


def varint_frames(data):
    i, n = 0, len(data)
    while i < n:
        shift = length = 0
        while True:
            if i >= n:
                raise ValueError("truncated length prefix")
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if i + length > n:
            raise ValueError("record runs past the end")
        yield data[i:i + length]
        i += length


def parse(cls, shadow_cls, rec):
    """(message, shadow) or None when protobuf rejects the record."""
    m = cls()
    try:
        m.ParseFromString(rec)
    except Exception:
        return None
    if not m.IsInitialized():
        return None
    s = shadow_cls()
    try:
        s.ParseFromString(rec)
    except Exception:
        s = None
    return m, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bad", required=True)
    ap.add_argument("--not-ours")
    a = ap.parse_args()
    cls, shadow_cls = load_message_class(a.proto, a.message)
    not_ours = set()
    if a.not_ours:
        with open(a.not_ours) as f:
            not_ours = {int(l.split()[0]) for l in f if l.strip()}
    import json
    with open(a.input, "rb") as f:
        data = f.read()
    bad = []
    with open(a.out, "w") as fo:
        for i, rec in enumerate(varint_frames(data)):
            r = parse(cls, shadow_cls, rec)
            if r is None or i in not_ours:
                bad.append("%d %s" % (i, "rejected" if r is None else "ours"))
                continue
            fo.write(json.dumps(to_row(r[0], r[1]), separators=(",", ":")) + "\n")
    with open(a.bad, "w") as fb:
        fb.write("".join(l + "\n" for l in bad))


if __name__ == "__main__":
    main()
