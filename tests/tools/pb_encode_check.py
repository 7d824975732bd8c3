#!/usr/bin/python3
"""Check sluice's protobuf re-encoding (sl_pb_encode) against python-protobuf.

usage: pb_encode_check.py --proto FILE.proto --message PKG.Msg --input IN.pb
                          --ours OURS.pb --status STATUS.txt
                          [--keep N,N,...] [--not-ours IDX_FILE]
       pb_encode_check.py --proto FILE.proto --message PKG.Msg --gen COUNT
                          --seed S --input OUT.pb
           write COUNT random messages, built field by field through
           python-protobuf (every field kind, oneofs, nesting, repeated,
           maps, groups, extreme values) and serialized by protobuf, as
           pb-delimited OUT.pb.

IN.pb holds the original pb-delimited records; OURS.pb the bytes sluice
wrote for each record it accepted (test_pb_encode reencode), STATUS.txt one
"ok N" / "bad N: message" line per input record, in order.

For every record protobuf accepts (parse, and proto2 required fields set):
  - sluice must have accepted it too, unless IDX_FILE (pb_adversarial.py's
    .ours list) names it as one only sluice's stricter rules reject;
  - expected = protobuf's parse of the original bytes, minus unknown fields
    and extensions (sluice never keeps them), minus the top-level fields
    not in --keep (the projection); actual = protobuf's parse of our bytes.
    They must be equal: ==, unless the message holds a NaN (NaN != NaN in
    protobuf's ==), and always their deterministic serializations;
  - when the message holds no map (whose entry order and duplicates are
    sluice's own choice), our bytes must equal protobuf's own
    serialization of expected byte for byte: the canonical form protobuf
    writes (field-number order, packed per syntax, defaults omitted).
Records protobuf rejects must have been rejected by sluice, and the other
way round (but for IDX_FILE); with --keep, a missing top-level required
field that the projection drops is not an error.
Prints a summary; exits 1 on the first mismatches (up to 10 shown).
"""
import argparse, math, os, sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pb_expect  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402


def walk(msg):
    """Yield (field descriptor, value) for every set field, recursively."""
    for fd, v in msg.ListFields():
        yield fd, v
        if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            if fd.message_type.GetOptions().map_entry:
                vals = [v[k] for k in v] if fd.message_type.fields_by_name[
                    "value"].type == FD.TYPE_MESSAGE else []
            elif fd.label == FD.LABEL_REPEATED:
                vals = list(v)
            else:
                vals = [v]
            for sub in vals:
                yield from walk(sub)


def has_nan(msg):
    for fd, v in walk(msg):
        if fd.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
            vals = list(v) if fd.label == FD.LABEL_REPEATED else [v]
            if any(isinstance(x, float) and math.isnan(x) for x in vals):
                return True
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            vt = fd.message_type.fields_by_name["value"].type
            if vt in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE) and any(math.isnan(v[k]) for k in v):
                return True
    return False


def has_map(msg):
    return any(fd.message_type is not None and fd.message_type.GetOptions().map_entry
               for fd, _ in walk(msg))


def norm_maps(m):
    """Rebuild every map from its map view. python-protobuf's C++ backend
    keeps a parsed map with duplicate keys in its wire form (== and
    serialization then see every entry, with an error log); the map view
    holds protobuf's meaning: the last value of each key."""
    for fd, val in list(m.ListFields()):
        if fd.type not in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            continue
        if fd.message_type.GetOptions().map_entry:
            msg_val = fd.message_type.fields_by_name["value"].type == FD.TYPE_MESSAGE
            pairs = []
            for k in val:
                if msg_val:
                    c = type(val[k])()
                    c.CopyFrom(val[k])
                    norm_maps(c)
                    pairs.append((k, c))
                else:
                    pairs.append((k, val[k]))
            m.ClearField(fd.name)
            mp = getattr(m, fd.name)
            for k, v in pairs:
                if msg_val:
                    mp[k].CopyFrom(v)
                else:
                    mp[k] = v
        elif fd.label == FD.LABEL_REPEATED:
            for x in val:
                norm_maps(x)
        else:
            norm_maps(val)


def expected_of(cls, rec, keep):
    """protobuf's view of what sluice should write, and whether protobuf
    accepts the record: parses, and no required field is missing in what
    is written (a top-level required field the projection drops is not
    written, so it is not required)."""
    m = cls()
    try:
        m.ParseFromString(rec)
    except Exception:
        return None, False
    m.DiscardUnknownFields()
    for fd, _ in m.ListFields():
        if fd.is_extension:
            m.ClearExtension(fd)
        elif keep is not None and fd.number not in keep:
            m.ClearField(fd.name)
    norm_maps(m)
    by_name = m.DESCRIPTOR.fields_by_name
    missing = [e for e in m.FindInitializationErrors()
               if keep is None or by_name[e.split(".")[0].split("[")[0]].number in keep]
    return m, not missing


def rand_scalar(rnd, fd):
    t = fd.type
    if t in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32):
        return rnd.choice([0, 1, -1, 2**31 - 1, -2**31, rnd.randint(-2**31, 2**31 - 1)])
    if t in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64):
        return rnd.choice([0, 1, -1, 2**63 - 1, -2**63, rnd.randint(-2**63, 2**63 - 1)])
    if t in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return rnd.choice([0, 1, 127, 128, 2**32 - 1, rnd.randint(0, 2**32 - 1)])
    if t in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        return rnd.choice([0, 1, 2**64 - 1, rnd.randint(0, 2**64 - 1)])
    if t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        x = rnd.choice([0.0, -0.0, 1.5, float("nan"), float("inf"), float("-inf"), 5e-324,
                        rnd.uniform(-1e6, 1e6)])
        if t == FD.TYPE_FLOAT and x == 5e-324:
            x = 1.401298464324817e-45
        return x
    if t == FD.TYPE_BOOL:
        return rnd.random() < 0.5
    if t == FD.TYPE_STRING:
        n = rnd.choice([0, 1, 5, 130, 300])
        return "".join(rnd.choice("ab\u00e9\u2603\U0001F600 z") for _ in range(n))
    if t == FD.TYPE_BYTES:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 7, 200])))
    if t == FD.TYPE_ENUM:
        vals = [v.number for v in fd.enum_type.values]
        closed = fd.file.syntax == "proto2"
        return rnd.choice(vals) if closed or rnd.random() < 0.8 else rnd.randint(-5, 500)
    raise ValueError(t)


def rand_fill(rnd, m, depth, maps=True):
    d = m.DESCRIPTOR
    oneofs_done = set()
    for fd in d.fields:
        req = fd.label == FD.LABEL_REQUIRED
        if not req and rnd.random() < 0.45:
            continue
        if fd.containing_oneof is not None and fd.containing_oneof.name in oneofs_done:
            continue
        if fd.containing_oneof is not None and len(fd.containing_oneof.fields) > 1:
            oneofs_done.add(fd.containing_oneof.name)
        is_msg = fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP)
        if is_msg and depth >= 4 and not req:
            continue
        if is_msg and fd.message_type.GetOptions().map_entry:
            if not maps:
                continue
            kf, vf = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
            mp = getattr(m, fd.name)
            for _ in range(rnd.randint(0, 4)):
                k = rand_scalar(rnd, kf)
                if vf.type == FD.TYPE_MESSAGE:
                    rand_fill(rnd, mp[k], depth + 1, maps)
                else:
                    mp[k] = rand_scalar(rnd, vf)
        elif fd.label == FD.LABEL_REPEATED:
            lst = getattr(m, fd.name)
            for _ in range(rnd.randint(0, 4)):
                if is_msg:
                    rand_fill(rnd, lst.add(), depth + 1, maps)
                else:
                    lst.append(rand_scalar(rnd, fd))
        elif is_msg:
            sub = getattr(m, fd.name)
            sub.SetInParent()
            rand_fill(rnd, sub, depth + 1, maps)
        else:
            setattr(m, fd.name, rand_scalar(rnd, fd))


def generate(cls, count, seed, out):
    import random
    rnd = random.Random(seed)
    with open(out, "wb") as f:
        for i in range(count):
            m = cls()
            rand_fill(rnd, m, 0, i % 2 == 0)  # half without maps: compared byte for byte
            b = m.SerializeToString()
            f.write(_varint(len(b)) + b)


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--ours")
    ap.add_argument("--status")
    ap.add_argument("--gen", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep")
    ap.add_argument("--not-ours")
    a = ap.parse_args()
    cls, _ = pb_expect.load_message_class(a.proto, a.message)
    if a.gen is not None:
        generate(cls, a.gen, a.seed, a.input)
        return 0
    if not a.ours or not a.status:
        ap.error("--ours and --status are required to check")
    keep = {int(x) for x in a.keep.split(",")} if a.keep else None
    not_ours = set()
    if a.not_ours:
        with open(a.not_ours) as f:
            not_ours = {int(l.split()[0]) for l in f if l.strip()}
    with open(a.input, "rb") as f:
        originals = list(pb_expect.varint_frames(f.read()))
    with open(a.ours, "rb") as f:
        ours = list(pb_expect.varint_frames(f.read()))
    status = {}
    with open(a.status) as f:
        for line in f:
            kind, rest = line.split(" ", 1)
            status[int(rest.split(":")[0])] = (kind, rest.split(":", 1)[-1].strip())
    errors = []
    n_ok = n_bad = n_exact = n_maps = 0
    it = iter(ours)
    for i, rec in enumerate(originals):
        if i not in status:
            errors.append("record %d: no status line from the driver" % i)
            continue
        kind, msg = status[i]
        exp, accepted = expected_of(cls, rec, keep)
        if kind == "bad":
            n_bad += 1
            if exp is not None and accepted and i not in not_ours:
                errors.append("record %d: protobuf accepts it, sluice rejected it: %s" % (i, msg))
            continue
        mine = next(it, None)
        if mine is None:
            errors.append("record %d: missing from %s" % (i, a.ours))
            continue
        if exp is None or not accepted:
            errors.append("record %d: protobuf rejects it, sluice encoded it" % i)
            continue
        n_ok += 1
        got = cls()
        try:
            got.ParseFromString(mine)
        except Exception as e:
            errors.append("record %d: protobuf cannot parse our bytes: %s" % (i, e))
            continue
        norm_maps(got)
        if not has_nan(exp) and not exp == got:
            errors.append("record %d: messages differ (==)\n  expected %s\n  ours     %s" %
                          (i, exp, got))
            continue
        se = exp.SerializePartialToString(deterministic=True)
        sg = got.SerializePartialToString(deterministic=True)
        if se != sg:
            errors.append("record %d: deterministic serializations differ\n  %s\n  %s" %
                          (i, se.hex(), sg.hex()))
            continue
        if has_map(exp):
            n_maps += 1
        elif mine != se:
            errors.append("record %d: our bytes are not protobuf's canonical bytes\n"
                          "  protobuf %s\n  ours     %s" % (i, se.hex(), mine.hex()))
            continue
        else:
            n_exact += 1
    if next(it, None) is not None:
        errors.append("%s holds more records than the driver accepted" % a.ours)
    label = os.path.basename(a.ours)
    if errors:
        for e in errors[:10]:
            print("FAIL %s: %s" % (label, e), file=sys.stderr)
        print("FAIL %s: %d mismatches" % (label, len(errors)), file=sys.stderr)
        return 1
    print("%s: %d re-encoded records equal to protobuf's parse (%d byte-exact, %d with maps), "
          "%d rejected as expected" % (label, n_ok, n_exact, n_maps, n_bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
