#!/usr/bin/python3
"""Reference rows for JSON lines, decoded by python-protobuf's json_format.

usage: json_expect.py --proto FILE.proto --message PKG.Msg --input IN.jsonl
                      --out EXPECTED.jsonl --bad BAD.txt [--ignore-unknown]

Every line (0-based index = line number; lines of only spaces and tabs are
skipped, as sluice convert skips them) is decoded as UTF-8 and parsed by
protobuf's own JSON parser (json_format.Parse, Debian's python3-protobuf)
into the message; the message becomes a canonical row (tests/tools/rowcmp.py)
through pb_expect.py's to_row - the same conversion the protobuf decoder's
test uses, so the two decoders are held to one mapping.

A line is "expected bad" (no row; "IDX rejected" in --bad) when the bytes
are not UTF-8, when it is not strict JSON (RFC 8259: Python's json module
also reads NaN/Infinity literals; they are refused here), or when
json_format.Parse raises anything (missing proto2 required fields are
checked too, as protobuf's serializer would).

Map order: protobuf's map keeps no order, and our decoder keeps each key at
its first appearance (last value wins). The order therefore comes from a
second parse, with pb_expect's shadow schema (map entries as plain repeated
messages), of the same JSON with each map object rewritten as a list of
{"key", "value"} in the line's key order; keys and values still come from
the real map.
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pb_expect import load_message_class, to_row, is_map  # noqa: E402

from google.protobuf import json_format  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402


def no_constants(name):
    raise ValueError("not JSON: %s" % name)


def field_of(desc, key):
    for fd in desc.fields:
        if fd.json_name == key:
            return fd
    return desc.fields_by_name.get(key)


def shadow_js(js, desc):
    """js (a dict for message desc) with every map object turned into a list
    of {"key", "value"}, recursively; unknown keys dropped."""
    if not isinstance(js, dict):
        return js
    out = {}
    for k, v in js.items():
        fd = field_of(desc, k)
        if fd is None:
            continue
        if is_map(fd) and isinstance(v, dict):
            kfd = fd.message_type.fields_by_name["key"]
            vfd = fd.message_type.fields_by_name["value"]
            ents = []
            for mk, mv in v.items():
                key = {"true": True, "false": False}.get(mk, mk) if kfd.type == FD.TYPE_BOOL else mk
                if vfd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
                    mv = shadow_js(mv, vfd.message_type)
                ents.append({"key": key, "value": mv})
            out[fd.name] = ents
        elif fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            if fd.label == FD.LABEL_REPEATED and isinstance(v, list):
                out[fd.name] = [shadow_js(x, fd.message_type) for x in v]
            else:
                out[fd.name] = shadow_js(v, fd.message_type)
        else:
            out[fd.name] = v
    return out


def parse_line(cls, shadow_cls, raw, ignore):
    """(message, shadow or None), or None when the reference rejects it."""
    try:
        text = raw.decode("utf-8")
        js = json.loads(text, parse_constant=no_constants)
        m = json_format.Parse(text, cls(), ignore_unknown_fields=ignore)
        if not m.IsInitialized():
            return None
    except Exception:
        return None
    try:
        s = json_format.ParseDict(shadow_js(js, cls.DESCRIPTOR), shadow_cls(),
                                  ignore_unknown_fields=True)
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
    ap.add_argument("--ignore-unknown", action="store_true")
    a = ap.parse_args()
    cls, shadow_cls = load_message_class(a.proto, a.message)
    with open(a.input, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    bad = []
    with open(a.out, "w") as fo:
        for i, raw in enumerate(lines):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if raw.strip(b" \t") == b"":
                continue
            r = parse_line(cls, shadow_cls, raw, a.ignore_unknown)
            if r is None:
                bad.append("%d rejected" % i)
                continue
            fo.write(json.dumps(to_row(r[0], r[1]), separators=(",", ":")) + "\n")
    with open(a.bad, "w") as fb:
        fb.write("".join(l + "\n" for l in bad))


if __name__ == "__main__":
    main()
