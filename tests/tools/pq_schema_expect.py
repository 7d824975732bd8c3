#!/usr/bin/python3
"""Expected Parquet schema of a protobuf message, from docs/formats.md.

usage: pq_schema_expect.py --proto FILE.proto --message PKG.Msg \
           --rows ROWS.jsonl --out EXPECTED.json [--kv KEY=VALUE]...

A second, independent implementation of sluice's protobuf -> Parquet
mapping, written from docs/formats.md over python-protobuf's descriptors (not
from sluice's plan). It writes the EXPECTED.json that tests/tools/pq_check.mjs
checks a file against: the schema nodes (pre-order, root excluded) with
physical type, repetition, converted and logical type and field id, plus the
given canonical rows (from pb_expect.py) and key-value metadata.
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pb_expect import load_message_class, has_presence, is_map  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402

PHYS = {
    FD.TYPE_INT32: "INT32", FD.TYPE_SINT32: "INT32", FD.TYPE_SFIXED32: "INT32",
    FD.TYPE_INT64: "INT64", FD.TYPE_SINT64: "INT64", FD.TYPE_SFIXED64: "INT64",
    FD.TYPE_UINT32: "INT64", FD.TYPE_FIXED32: "INT64",
    FD.TYPE_UINT64: "INT64", FD.TYPE_FIXED64: "INT64",
    FD.TYPE_FLOAT: "FLOAT", FD.TYPE_DOUBLE: "DOUBLE", FD.TYPE_BOOL: "BOOLEAN",
    FD.TYPE_STRING: "BYTE_ARRAY", FD.TYPE_BYTES: "BYTE_ARRAY", FD.TYPE_ENUM: "BYTE_ARRAY",
}


def leaf(path, fd, rep, field_id):
    t = fd.type
    conv, logical = None, None
    if t in (FD.TYPE_STRING, FD.TYPE_ENUM):
        conv, logical = "UTF8", {"type": "STRING"}
    elif t in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        conv, logical = "UINT_64", {"type": "INTEGER", "bitWidth": 64, "isSigned": False}
    return {"path": path, "type": PHYS[t], "repetition": rep, "converted_type": conv,
            "logical_type": logical, "field_id": field_id}


def group(path, rep, field_id, conv=None, logical=None):
    return {"path": path, "type": None, "repetition": rep, "converted_type": conv,
            "logical_type": logical, "field_id": field_id}


def value_nodes(out, path, fd, rep, field_id):
    """A single (non-repeated) value of fd's type at path."""
    if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
        out.append(group(path, rep, field_id))
        fields(out, path, fd.message_type)
    else:
        out.append(leaf(path, fd, rep, field_id))


def fields(out, prefix, msg):
    for fd in msg.fields:
        path = prefix + "." + fd.name if prefix else fd.name
        if is_map(fd):
            kf, vf = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
            out.append(group(path, "REQUIRED", fd.number, "MAP", {"type": "MAP"}))
            out.append(group(path + ".key_value", "REPEATED", None))
            out.append(leaf(path + ".key_value.key", kf, "REQUIRED", 1))
            vrep = "OPTIONAL" if vf.type == FD.TYPE_MESSAGE else "REQUIRED"
            value_nodes(out, path + ".key_value.value", vf, vrep, 2)
        elif fd.label == FD.LABEL_REPEATED:
            out.append(group(path, "REQUIRED", fd.number, "LIST", {"type": "LIST"}))
            out.append(group(path + ".list", "REPEATED", None))
            value_nodes(out, path + ".list.element", fd, "REQUIRED", None)
        else:
            if fd.label == FD.LABEL_REQUIRED:
                rep = "REQUIRED"
            elif fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP) or has_presence(fd):
                rep = "OPTIONAL"
            else:
                rep = "REQUIRED"
            value_nodes(out, path, fd, rep, fd.number)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kv", action="append", default=[])
    a = ap.parse_args()
    cls = load_message_class(a.proto, a.message)
    cls = cls[0] if isinstance(cls, tuple) else cls
    cols = []
    fields(cols, "", cls.DESCRIPTOR)
    # Rows are passed through as text so that exact integers stay exact.
    with open(a.rows) as f:
        rows = [l.strip() for l in f if l.strip()]
    kv = dict(x.split("=", 1) for x in a.kv)
    with open(a.out, "w") as f:
        f.write('{"name": %s, "kv": %s, "columns": %s, "rows": [%s]}\n' % (
            json.dumps(a.message), json.dumps(kv), json.dumps(cols), ",\n".join(rows)))


if __name__ == "__main__":
    main()
