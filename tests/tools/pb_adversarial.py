#!/usr/bin/python3
"""Hostile but valid (and some invalid) protobuf wire input for the test
schemas tests/data/alltypes3.proto (t3.AllTypes) and alltypes2.proto
(t2.AllTypes2), written by hand at the wire level, so it holds what a
normal serializer never writes.

usage: pb_adversarial.py --schema 3|2 --proto FILE.proto --out OUT.pb
       writes OUT.pb (pb-delimited records) and
       OUT.pb.bad      "IDX SUBSTRING": records protobuf rejects too
       OUT.pb.ours     "IDX SUBSTRING": records only sluice rejects, by its
                        documented stricter rules (wrong wire type for a known
                        field; invalid UTF-8 in a proto2 string; field number
                        0 or a stray end-group tag, where python-protobuf
                        stops parsing quietly and keeps what it read)
       SUBSTRING is what sluice's error message must contain.

Valid inputs: reordered fields, duplicated scalars (last wins), split
sub-messages (merged), oneof switching, unknown fields of every wire type
including nested groups, packed/unpacked mixtures, extreme values
(INT64_MIN, UINT64_MAX, NaN, -0.0, a negative int32 as a 10-byte varint,
over-long varints for 32-bit fields), 60-deep unknown group nesting, empty
records and messages, duplicate map keys, map entries missing key or value.
The expected rows are NOT written here: pb_expect.py derives them from
protobuf's own parser.
"""
import argparse, os, struct, sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pb_expect  # noqa: E402

M64 = (1 << 64) - 1


def varint(n):
    n &= M64
    b = bytearray()
    while True:
        x = n & 0x7F
        n >>= 7
        if n:
            b.append(x | 0x80)
        else:
            b.append(x)
            return bytes(b)


def tag(num, wt):
    return varint((num << 3) | wt)


def zz(v, bits=64):
    return ((v << 1) ^ (v >> (bits - 1))) & ((1 << bits) - 1)


class W:
    """Field-name based wire writer for one message type."""

    def __init__(self, desc):
        self.d = desc

    def n(self, name):
        return self.d.fields_by_name[name].number

    def v(self, name, val):  # varint
        return tag(self.n(name), 0) + varint(val)

    def f32(self, name, raw4):
        return tag(self.n(name), 5) + raw4

    def f64(self, name, raw8):
        return tag(self.n(name), 1) + raw8

    def ld(self, name, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        return tag(self.n(name), 2) + varint(len(payload)) + payload

    def grp(self, name, payload):
        num = self.n(name)
        return tag(num, 3) + payload + tag(num, 4)

    def sub(self, name):
        return W(self.d.fields_by_name[name].message_type)


def ld_raw(num, payload):
    return tag(num, 2) + varint(len(payload)) + payload


def unknown_all(base=900):
    """Unknown fields of every wire type, nested groups included."""
    g = tag(base + 5, 0) + varint(5) + ld_raw(base + 6, b"in group") + \
        tag(base + 7, 3) + tag(1, 5) + b"abcd" + tag(base + 7, 4)
    return (tag(base, 0) + varint(M64) + tag(base + 1, 1) + b"\x01" * 8 +
            ld_raw(base + 2, b"\xff\xfe not utf8") + tag(base + 3, 5) + b"\x00" * 4 +
            tag(base + 4, 3) + g + tag(base + 4, 4))


def f32(x):
    return struct.pack("<f", x)


def f64(x):
    return struct.pack("<d", x)


NAN32 = b"\x00\x00\xc0\x7f"
NAN64 = b"\x00\x00\x00\x00\x00\x00\xf8\x7f"


def cases3(d):
    w = W(d)
    leaf = w.sub("leaf")
    top = w.sub("top")
    mid = top.sub("mid")
    good, bad, ours = [], [], []
    # 0 empty
    good.append(b"")
    # extremes in every scalar
    good.append(
        w.v("f_int32", -(1 << 31)) + w.v("f_int64", -(1 << 63)) + w.v("f_uint32", (1 << 32) - 1) +
        w.v("f_uint64", M64) + w.v("f_sint32", zz(-(1 << 31), 32)) + w.v("f_sint64", zz(-(1 << 63))) +
        w.f32("f_fixed32", b"\xff" * 4) + w.f64("f_fixed64", b"\xff" * 8) +
        w.f32("f_sfixed32", struct.pack("<i", -(1 << 31))) +
        w.f64("f_sfixed64", struct.pack("<q", -(1 << 63))) + w.f32("f_float", NAN32) +
        w.f64("f_double", f64(-0.0)) + w.v("f_bool", 2) + w.ld("f_string", "héllo \U0001F600 ☃") +
        w.ld("f_bytes", bytes(range(256))) + w.v("f_enum", -3))
    # more extremes: inf, denormals, over-long varints for 32-bit fields
    good.append(
        w.f32("f_float", f32(float("-inf"))) + w.f64("f_double", f64(5e-324)) +
        w.v("f_int32", (1 << 32) + 5) + w.v("f_uint32", (1 << 40) + 7) +
        w.v("f_sint32", (1 << 35) + 3) + w.v("f_bool", 1 << 63) + w.v("f_enum", 77) +
        w.f32("f_float", f32(1.401298464324817e-45)) + w.v("o_int32", -1) + w.v("o_uint64", 0) +
        w.f64("o_double", NAN64) + w.ld("o_string", "") + w.ld("o_bytes", b"") +
        w.v("o_enum", 0) + w.v("o_bool", 0) + w.v("far_away", 12345))
    # reordered (descending numbers) and duplicated scalars: last wins
    good.append(
        w.v("far_away", 1) + w.ld("m_str_str", b"") + w.v("r_int32", 5) + w.v("c_int", 4) +
        w.v("o_int32", 3) + w.v("f_enum", 1) + w.ld("f_string", "first") + w.v("f_int32", 1) +
        w.v("f_int32", 2) + w.ld("f_string", "second") + w.v("o_int32", 30) + w.v("f_enum", 2) +
        w.f64("f_double", f64(1.5)) + w.f64("f_double", f64(2.5)) + w.v("far_away", 2))
    # split sub-messages at several levels (merge), empty present messages
    good.append(
        w.ld("leaf", leaf.ld("name", "a")) + w.ld("top", top.ld("mid", mid.v("n", 1))) +
        w.ld("leaf", leaf.v("v", 9) + leaf.v("opt", 0)) +
        w.ld("top", top.ld("mid", mid.ld("leaf", leaf.ld("name", "deep"))) + top.ld("tag", "t")) +
        w.ld("top", top.ld("mid", mid.ld("leaf", leaf.v("color", 2)) +
                           mid.ld("leaves", b"") + mid.ld("leaves", leaf.ld("name", "l2")))) +
        w.ld("leaf", leaf.ld("name", "b")))
    good.append(w.ld("leaf", b"") + w.ld("top", top.ld("mid", b"")))
    # oneof switching
    cl = w.sub("c_leaf")
    good.append(w.v("c_int", 1) + w.ld("c_str", "s") + w.ld("c_leaf", cl.ld("name", "x")) +
                w.v("c_int", 7))
    good.append(w.ld("c_leaf", cl.ld("name", "x")) + w.ld("c_leaf", cl.v("v", 3)))
    good.append(w.ld("c_leaf", cl.ld("name", "x")) + w.v("c_int", 2) +
                w.ld("c_leaf", cl.v("v", 3)))  # first c_leaf is gone
    good.append(w.ld("c_str", "s") + w.v("c_enum", 99))
    # unknown fields of every wire type, interleaved; 60-deep unknown groups
    deep = b"".join(tag(700 + i, 3) for i in range(60)) + varint(8) + varint(1) + \
        b"".join(tag(700 + i, 4) for i in reversed(range(60)))
    good.append(unknown_all() + w.v("f_int32", 5) + unknown_all(2000) + deep +
                w.ld("leaf", unknown_all(3000) + leaf.ld("name", "n")) + ld_raw(5000, deep))
    # packed / unpacked mixtures for every repeated scalar
    rec = b""
    for name, vals, kind in [
            ("r_int32", [-1, 0, 1 << 31], "v"), ("r_int64", [-(1 << 63), 5], "v"),
            ("r_uint32", [(1 << 32) - 1, 0], "v"), ("r_uint64", [M64, 1], "v"),
            ("r_sint32", [zz(-5, 32), zz(7, 32)], "v"), ("r_sint64", [zz(-(1 << 63)), 3], "v"),
            ("r_bool", [0, 3], "v"), ("r_enum", [1, 2, 1000, -3], "v")]:
        one = [varint(x) for x in vals]
        rec += tag(w.n(name), 0) + one[0] + ld_raw(w.n(name), b"".join(one)) + \
            tag(w.n(name), 0) + one[-1] + ld_raw(w.n(name), b"")
    for name, vals, wt in [
            ("r_fixed32", [b"\xff" * 4, b"\x01\x00\x00\x00"], 5),
            ("r_sfixed32", [struct.pack("<i", -7), struct.pack("<i", 7)], 5),
            ("r_float", [NAN32, f32(-0.0), f32(3.25)], 5),
            ("r_fixed64", [b"\xff" * 8, b"\x02" + b"\x00" * 7], 1),
            ("r_sfixed64", [struct.pack("<q", -(1 << 63))], 1),
            ("r_double", [NAN64, f64(-0.0), f64(1e308)], 1)]:
        rec += ld_raw(w.n(name), b"".join(vals)) + tag(w.n(name), wt) + vals[0]
    rec += ld_raw(w.n("r_unpacked"), varint(1) + varint(2)) + w.v("r_unpacked", 3)
    rec += w.ld("r_string", "") + w.ld("r_string", "x") + w.ld("r_bytes", b"\x00")
    rec += w.ld("r_leaf", b"") + w.ld("r_leaf", leaf.ld("name", "e1")) + w.ld("r_leaf", leaf.v("v", 2))
    good.append(rec)
    # maps: duplicates, missing key/value, reversed fields, unknown inside
    def entry(k=None, v=None, rev=False, extra=b""):
        parts = [p for p in (k, v) if p is not None]
        if rev:
            parts.reverse()
        return b"".join(parts) + extra
    ss = lambda k, v: entry(ld_raw(1, k.encode()) if k is not None else None,
                            ld_raw(2, v.encode()) if v is not None else None)
    rec = w.ld("m_str_str", ss("a", "1")) + w.ld("m_str_str", ss("b", "2")) + \
        w.ld("m_str_str", ss("a", "3")) + w.ld("m_str_str", ss(None, "nokey")) + \
        w.ld("m_str_str", ss("novalue", None)) + w.ld("m_str_str", b"") + \
        w.ld("m_str_str", entry(ld_raw(1, b"r"), ld_raw(2, b"rev"), rev=True, extra=unknown_all()))
    rec += w.ld("m_int_int", tag(1, 0) + varint(-1) + tag(2, 0) + varint(-(1 << 63)))
    rec += w.ld("m_int_int", tag(1, 0) + varint((1 << 32) - 1) + tag(2, 0) + varint(5))
    rec += w.ld("m_bool_str", tag(1, 0) + varint(0) + ld_raw(2, b"f"))
    rec += w.ld("m_bool_str", tag(1, 0) + varint(7) + ld_raw(2, b"t"))
    rec += w.ld("m_bool_str", tag(1, 0) + varint(1) + ld_raw(2, b"t2"))
    rec += w.ld("m_str_enum", ld_raw(1, b"e") + tag(2, 0) + varint(55))
    rec += w.ld("m_str_enum", ld_raw(1, b"f"))
    lf = leaf.ld("name", "v1")
    rec += w.ld("m_int_leaf", tag(1, 0) + varint(3) + ld_raw(2, lf) + ld_raw(2, leaf.v("v", 8)))
    rec += w.ld("m_int_leaf", tag(1, 0) + varint(4))
    rec += w.ld("m_int_leaf", tag(1, 0) + varint(3) + ld_raw(2, leaf.v("opt", 1)))
    rec += w.ld("m_uint_double", tag(1, 0) + varint(1) + tag(2, 1) + NAN64)
    rec += w.ld("m_sint_bytes", tag(1, 0) + varint(zz(-2)) + ld_raw(2, b"\xff"))
    rec += w.ld("m_fixed_bool", tag(1, 5) + b"\x01\x00\x00\x80" + tag(2, 0) + varint(1))
    good.append(rec)
    # a big map with many duplicates (hashed de-duplication)
    rec = b""
    for i in range(300):
        rec += w.ld("m_int_int", tag(1, 0) + varint((i * 37) % 101) + tag(2, 0) + varint(i))
    good.append(rec)
    # 10-byte negative varints everywhere a 32-bit value goes
    good.append(w.v("f_int32", -1) + w.v("f_enum", -3) + w.v("r_int32", -(1 << 31)) +
                w.ld("top", top.ld("nums", varint(-2) + varint(-1))))

    # ---- invalid ----
    full = good[1]
    bad.append((full[:len(full) // 2], ""))                      # truncated
    bad.append((w.v("f_int32", 1) + b"\x80", "varint"))        # truncated tag varint
    bad.append((tag(w.n("f_string"), 2) + varint(50) + b"short", "past the end"))
    bad.append((w.ld("leaf", tag(1, 2) + varint(9) + b"x"), "leaf.name (40.1)"))
    bad.append((w.ld("f_string", b"ok\xc3\x28"), "UTF-8"))
    bad.append((w.ld("m_str_str", ld_raw(1, b"\xed\xa0\x80")), "UTF-8"))
    bad.append((tag(901, 6) + b"\x00", "wire type"))
    bad.append((tag(902, 3) + tag(903, 4), "end-group"))
    bad.append((tag(905, 3) + varint(8) + varint(1), "not terminated"))
    bad.append((ld_raw(w.n("r_fixed32"), b"\x01\x02\x03"), "multiple"))
    bad.append((b"".join(tag(700, 3) for _ in range(150)), "deeper"))
    # python's parser stops quietly at tag 0 or a stray end-group (and keeps
    # what it read); a well-formed message never holds either
    ours.append((w.v("f_int32", 3) + tag(0, 0) + varint(1), "field number 0"))
    ours.append((w.v("f_int32", 3) + tag(904, 4) + w.v("f_int64", 1), "end-group"))
    ours.append((w.ld("f_int32", b"\x01"), "wire type"))
    ours.append((w.v("f_string", 1), "wire type"))
    ours.append((w.v("leaf", 1), "leaf (40)"))
    ours.append((w.f32("r_int32", b"\x00" * 4), "wire type"))
    return good, bad, ours


def cases2(d):
    w = W(d)
    inner = w.sub("inner")
    req = w.ld("req_inner", inner.v("id", 1))
    base = w.v("id", 7) + req
    grp = w.sub("grp")
    sub = grp.sub("sub")
    rg = w.sub("rgrp")
    good, bad, ours = [], [], []
    good.append(base)  # defaults: every optional null
    good.append(
        w.v("id", -(1 << 63)) + req + w.v("o_int32", -(1 << 31)) + w.v("o_int64", 0) +
        w.v("o_uint32", (1 << 32) - 1) + w.v("o_uint64", M64) + w.v("o_sint32", zz(-9, 32)) +
        w.v("o_sint64", zz(-(1 << 63))) + w.f32("o_fixed32", b"\xff" * 4) +
        w.f64("o_fixed64", b"\xff" * 8) + w.f32("o_sfixed32", struct.pack("<i", -1)) +
        w.f64("o_sfixed64", struct.pack("<q", -2)) + w.f32("o_float", NAN32) +
        w.f64("o_double", f64(-0.0)) + w.v("o_bool", 0) + w.ld("o_string", "") +
        w.ld("o_bytes", b"\x00\xff") + w.v("o_size", 1000))
    # closed enums: unknown numbers are unknown fields (optional, repeated
    # packed and not, oneof, map value)
    good.append(base + w.v("o_size", 2) + w.v("o_size", 77) + w.v("r_size", 77) +
                w.v("r_size", 1) + w.ld("r_size_packed", varint(3) + varint(99) + varint(2)) +
                w.v("r_size", -1) + w.v("p_int", 5) + w.v("p_size", 42) +
                w.ld("m_level", tag(1, 0) + varint(1) + tag(2, 0) + varint(9)) +
                w.ld("m_level", tag(1, 0) + varint(2) + tag(2, 0) + varint(2)))
    good.append(base + w.v("p_size", 3) + w.ld("p_inner", inner.v("id", 4)) +
                w.ld("p_inner", inner.ld("label", "x")))
    # groups, split and repeated; repeated groups
    good.append(base + w.grp("grp", grp.v("g_a", 1) + grp.grp("sub", sub.v("s_x", 5))) +
                w.grp("grp", grp.ld("g_b", "b") + grp.grp("sub", b"")) +
                w.grp("rgrp", rg.v("rg_id", 1)) + w.grp("rgrp", rg.v("rg_id", 2) + unknown_all()))
    # packed=true and not, both accepted
    good.append(base + w.v("r_plain", 1) + ld_raw(w.n("r_plain"), varint(2) + varint(3)) +
                w.v("r_packed", 4) + ld_raw(w.n("r_packed"), varint(-5)) +
                w.f64("r_double_packed", f64(0.5)) +
                ld_raw(w.n("r_double_packed"), f64(1.5) + NAN64) +
                ld_raw(w.n("r_fixed32"), b"\x01\x00\x00\x00") + w.f32("r_fixed32", b"\x02\x00\x00\x00") +
                ld_raw(w.n("r_bool"), varint(0) + varint(2)) + w.v("r_bool", 1) +
                w.ld("r_string", "a") + w.ld("r_string", "é"))
    # required fields in nested present messages satisfied; maps of messages
    good.append(base + w.ld("inners", inner.v("id", 1)) + w.ld("inners", inner.v("id", 2) +
                inner.ld("label", "two")) + w.ld("inner", inner.v("id", 3)) +
                w.ld("m_inner", ld_raw(1, b"k") + ld_raw(2, inner.v("id", 5))) +
                w.ld("m_inner", ld_raw(1, b"k") + ld_raw(2, inner.v("id", 6) + inner.v("size", 3))) +
                unknown_all())
    # reordered, duplicate required scalars, extension field (unknown to us)
    good.append(req + w.v("o_int32", 1) + w.v("id", 1) + w.v("id", 2) + tag(1000, 0) + varint(9))

    bad.append((req, "field id (number 1)"))                                  # missing required id
    bad.append((w.v("id", 1), "req_inner"))                       # missing required message
    bad.append((base + w.ld("inners", inner.ld("label", "x")), "inners"))
    bad.append((base + w.grp("rgrp", b""), "rg_id"))
    bad.append((base + w.ld("inner", b""), "inner.id"))
    bad.append((base + tag(w.n("grp"), 3) + grp.v("g_a", 1), "not terminated"))
    ours.append((base + w.ld("o_string", b"\xff"), "UTF-8"))
    ours.append((base + w.ld("o_int32", b""), "wire type"))
    ours.append((base + w.ld("grp", b""), "wire type"))
    return good, bad, ours


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", choices=["2", "3"], required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    name = "t3.AllTypes" if a.schema == "3" else "t2.AllTypes2"
    cls, _ = pb_expect.load_message_class(a.proto, name)
    good, bad, ours = (cases3 if a.schema == "3" else cases2)(cls.DESCRIPTOR)
    # interleave: good records around each bad one, so a decoder that
    # mishandles an error shows up on the next record too
    recs, fb, fo = [], [], []
    gi = 0
    for kind, lst in (("bad", bad), ("ours", ours)):
        for rec, sub in lst:
            recs.append(good[gi % len(good)])
            gi += 1
            (fb if kind == "bad" else fo).append("%d %s" % (len(recs), sub))
            recs.append(rec)
    recs.extend(good)
    with open(a.out, "wb") as f:
        for r in recs:
            f.write(varint(len(r)) + r)
    with open(a.out + ".bad", "w") as f:
        f.write("".join(l + "\n" for l in fb))
    with open(a.out + ".ours", "w") as f:
        f.write("".join(l + "\n" for l in fo))


if __name__ == "__main__":
    main()
