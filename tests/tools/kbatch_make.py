#!/usr/bin/python3
"""Batched Kafka values built and read by libraries we did not write.

usage:
  kbatch_make.py make --proto play_event.proto --dir DIR [--count N] [--seed S]
  kbatch_make.py check --codec CODEC --in FILE --expect DIR/records.hex --proto P
  kbatch_make.py bomb --codec CODEC --size BYTES --out FILE

make: N PlayEvents (plus an empty message, i.e. a zero-length record, and one
record above 64 KiB so it spans snappy chunks and LZ4 blocks) are serialized
by python-protobuf and framed with protobuf's own delimited writer
(encoder._VarintBytes(len) + SerializeToString()). The same stream is then
compressed by Debian's python3-zstandard, python3-lz4, python3-snappy and the
gzip module, whole and as several concatenated frames/members/streams made
with different settings (levels, checksums, content size or not, linked or
independent LZ4 blocks, compressed and stored snappy chunks, gzip headers
with a file name). The snappy framing CRC-32C comes from python3-crcmod (see
the note at the import). Writes:
  DIR/records.hex     expected output: one hex line per record
  DIR/delimited.bin   the uncompressed batch
  DIR/json.hex        the same messages as JSON lines (protobuf's
                      MessageToJson), one hex line each, and DIR/json-*.bin
  DIR/<case>.bin      one value per case
  DIR/cases.txt       "<case> <codec> <expected .hex>" per line

check: FILE (our encoder's output) is decompressed by python's library for
CODEC, split with protobuf's varint decoder, every record parsed as a
PlayEvent by protobuf, and the record bytes compared with records.hex.

bomb: one record of BYTES zero bytes, compressed (a tiny value that expands
to BYTES + a few).
"""
import argparse, gzip, io, json, os, random, sys

import crcmod.predefined
import lz4.frame
import snappy
import snappy.snappy
import zstandard
from google.protobuf import json_format
from google.protobuf.internal import decoder, encoder

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pb_expect import load_message_class  # noqa: E402

# Debian's python3-snappy 0.5.3 computes the framing CRC in a C extension
# that fails on Python >= 3.10 ("PY_SSIZE_T_CLEAN macro must be defined");
# its framing code is pure python and takes the CRC-32C function from that
# module attribute, so give it python3-crcmod's CRC-32C (also not ours).
_crc32c = crcmod.predefined.mkCrcFun("crc-32c")
assert _crc32c(b"123456789") == 0xE3069283  # the standard check value
snappy.snappy._crc32c = _crc32c


def delimited(records):
    return b"".join(encoder._VarintBytes(len(r)) + r for r in records)


def split(data):
    """Records of a delimited stream, by protobuf's own varint decoder."""
    out, pos = [], 0
    while pos < len(data):
        n, pos = decoder._DecodeVarint(data, pos)
        if pos + n > len(data):
            raise ValueError("record at %d runs past the end" % pos)
        out.append(data[pos:pos + n])
        pos += n
    return out


def make_events(cls, count, rnd):
    msgs = [cls()]  # an empty message: a zero-length record
    for i in range(count):
        m = cls()
        m.log_id = rnd.choice(["001000", "001001", "002000"])
        m.event_time_ms = 1700000000000 + rnd.randrange(3600 * 1000)
        m.mid = rnd.randrange(1 << 40)
        m.avid = rnd.randrange(1 << 30)
        m.play_seconds = rnd.randrange(-5, 4000)
        m.progress = rnd.random()
        m.platform = rnd.randrange(5)
        m.buvid = "%032x" % rnd.getrandbits(128)
        m.client.os = rnd.choice(["android 14", "ios 17", ""])
        m.tags.extend("tag%d" % rnd.randrange(50) for _ in range(rnd.randrange(4)))
        for k in range(rnd.randrange(3)):
            m.ext["k%d" % k] = "v%d" % rnd.randrange(1000)
        m.recent_avids.extend(rnd.randrange(1 << 30) for _ in range(rnd.randrange(6)))
        msgs.append(m)
        if i == count // 2:
            msgs.append(cls())
    big = cls()  # > 64 KiB in one record
    big.tags.extend("%08x" % rnd.getrandbits(32) for _ in range(9000))
    msgs.insert(len(msgs) // 3, big)
    return msgs


def groups(records, k):
    step = max(1, len(records) // k)
    return [records[i * step:(i + 1) * step if i < k - 1 else len(records)] for i in range(k)]


def gzip_named(data):
    b = io.BytesIO()
    with gzip.GzipFile(filename="batch.pb", mode="wb", fileobj=b, mtime=1) as f:
        f.write(data)
    return b.getvalue()


def zstd_stream(data):
    """A frame without a content size (streaming compressor)."""
    o = zstandard.ZstdCompressor(level=3).compressobj()
    return o.compress(data) + o.flush()


def snappy_stream(data, compress=None):
    return snappy.StreamCompressor().add_chunk(data, compress=compress)


def containers(records):
    data = delimited(records)
    g = [delimited(x) for x in groups(records, 3)]
    return {
        "none": ("none", data),
        "zstd": ("zstd", zstandard.ZstdCompressor(level=3).compress(data)),
        "zstd-multi": ("zstd", zstandard.ZstdCompressor(level=1, write_checksum=True).compress(g[0])
                       + zstandard.ZstdCompressor().compress(b"")
                       + zstd_stream(g[1])
                       + zstandard.ZstdCompressor(level=19, write_content_size=False).compress(g[2])),
        "gzip": ("gzip", gzip.compress(data)),
        "gzip-multi": ("gzip", gzip.compress(g[0], compresslevel=1, mtime=0) + gzip_named(g[1])
                       + gzip.compress(b"") + gzip.compress(g[2], compresslevel=9)),
        "lz4": ("lz4", lz4.frame.compress(data)),
        "lz4-multi": ("lz4", lz4.frame.compress(g[0], content_checksum=True,
                                                block_size=lz4.frame.BLOCKSIZE_MAX4MB)
                      + lz4.frame.compress(g[1], block_linked=False, store_size=False,
                                           block_checksum=True)
                      + lz4.frame.compress(b"")
                      + lz4.frame.compress(g[2], compression_level=9)),
        "snappy": ("snappy", snappy_stream(data)),
        "snappy-multi": ("snappy", snappy_stream(g[0], True) + snappy_stream(g[1], False)
                         + snappy_stream(b"") + snappy_stream(g[2])),
    }


def write_hex(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(r.hex() + "\n")


def cmd_make(a):
    cls, _ = load_message_class(a.proto, "bench.PlayEvent")
    rnd = random.Random(a.seed)
    msgs = make_events(cls, a.count, rnd)
    records = [m.SerializeToString() for m in msgs]
    assert records[0] == b"" and max(len(r) for r in records) > 65536
    os.makedirs(a.dir, exist_ok=True)
    write_hex(os.path.join(a.dir, "records.hex"), records)
    lines = [json.dumps(json.loads(json_format.MessageToJson(m)), separators=(",", ":")).encode()
             for m in msgs[:200]]
    write_hex(os.path.join(a.dir, "json.hex"), lines)
    cases = []
    for name, (codec, value) in containers(records).items():
        with open(os.path.join(a.dir, name + ".bin"), "wb") as f:
            f.write(value)
        cases.append("%s %s records.hex" % (name, codec))
    for codec in ("zstd", "snappy"):
        name = "json-" + codec
        with open(os.path.join(a.dir, name + ".bin"), "wb") as f:
            f.write(containers(lines)[codec][1])
        cases.append("%s %s json.hex" % (name, codec))
    with open(os.path.join(a.dir, "delimited.bin"), "wb") as f:
        f.write(delimited(records))
    with open(os.path.join(a.dir, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


def decompress(codec, data):
    if codec == "none":
        return data
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if codec == "gzip":
        return gzip.decompress(data)
    if codec == "lz4":
        return lz4.frame.decompress(data)
    if codec == "snappy":
        d = snappy.StreamDecompressor()
        out = d.decompress(data)
        d.flush()  # raises if the stream ends inside a chunk
        return out
    raise SystemExit("unknown codec " + codec)


def cmd_check(a):
    cls, _ = load_message_class(a.proto, "bench.PlayEvent")
    with open(a.input, "rb") as f:
        value = f.read()
    with open(a.expect) as f:
        want = [bytes.fromhex(line.strip()) for line in f]
    got = split(decompress(a.codec, value))
    for r in got:
        cls.FromString(r)  # protobuf must accept every record
    if got != want:
        bad = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
        raise SystemExit("%s: %d records, expected %d; first difference at record %d"
                         % (a.codec, len(got), len(want), bad))
    print("%s: python read %d records (%d bytes compressed)" % (a.codec, len(got), len(value)))


def cmd_bomb(a):
    rec = delimited([bytes(a.size)])
    value = {"zstd": lambda d: zstandard.ZstdCompressor(level=19).compress(d),
             "gzip": lambda d: gzip.compress(d, compresslevel=9),
             "lz4": lambda d: lz4.frame.compress(d, compression_level=9),
             "snappy": snappy_stream}[a.codec](rec)
    with open(a.out, "wb") as f:
        f.write(value)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--proto", required=True)
    m.add_argument("--dir", required=True)
    m.add_argument("--count", type=int, default=1500)
    m.add_argument("--seed", type=int, default=22)
    c = sub.add_parser("check")
    c.add_argument("--codec", required=True)
    c.add_argument("--in", dest="input", required=True)
    c.add_argument("--expect", required=True)
    c.add_argument("--proto", required=True)
    b = sub.add_parser("bomb")
    b.add_argument("--codec", required=True)
    b.add_argument("--size", type=int, required=True)
    b.add_argument("--out", required=True)
    a = p.parse_args()
    {"make": cmd_make, "check": cmd_check, "bomb": cmd_bomb}[a.cmd](a)


if __name__ == "__main__":
    main()
