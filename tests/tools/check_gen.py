#!/usr/bin/python3
"""Check `sluice gen` output against protobuf's own Python implementation.

usage: check_gen.py --proto bench/play_event.proto --pb OURS.pb --jsonl OURS.jsonl
                    [--ref-pb REF.pb --ref-jsonl REF.jsonl]
                    [--count N --streams K --first-stream F --start-ms T --span-s S
                     --disorder-s D]   (the options ours was generated with)

Checks, each able to fail:
  1. canonical protobuf: every length-delimited record parses with
     ParseFromString, and SerializeToString(deterministic=True) of the parsed
     message gives back exactly our bytes (field order, skipped defaults,
     packing, map entries). The framing must end exactly at the file's end.
  2. JSON: every line parses with json_format.Parse into a message equal to
     the pb record at the same index; and the line is byte-identical to the
     line gen_events.py would write for that message (its dict + json.dumps).
  3. distribution: log_id round-robin over the streams, event time within
     [base - disorder, base] clamped at start (base = start + i*span//count),
     every field in gen_events.py's range / pool, tags distinct, ext keys
     k0..k(n-1), frequencies (autoplay 30%, list lengths, enum values) near
     their expected values.
  4. against gen_events.py's output (REF, when given): mean pb record size
     and mean JSON line size within 15%, and the same frequencies near the
     reference's.
Needs Debian's python3-protobuf and protoc. Exits 1 with the first problems.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ERRORS = []


def fail(msg):
    ERRORS.append(msg)
    if len(ERRORS) >= 20:
        report()


def report():
    for e in ERRORS:
        print("check_gen: " + e, file=sys.stderr)
    sys.exit(1 if ERRORS else 0)


def load_pb2(proto):
    out = tempfile.mkdtemp(prefix="check_gen_pb2_")
    d, f = os.path.split(os.path.abspath(proto))
    subprocess.run(["protoc", "-I", d, "--python_out", out, f], check=True)
    sys.path.insert(0, out)
    import play_event_pb2
    return play_event_pb2


def varint(data, pos):
    shift = val = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint at byte %d" % pos)
        b = data[pos]
        pos += 1
        val |= (b & 0x7F) << shift
        if not b & 0x80:
            return val, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long at byte %d" % pos)


def records(path):
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        n, p = varint(data, pos)
        if p + n > len(data):
            raise ValueError("%s: record %d at byte %d: length %d runs past the end" %
                             (path, len(out), pos, n))
        out.append(data[p:p + n])
        pos = p + n
    return out


def ref_json_line(pb, e):
    """The line gen_events.py writes for message e (same dict, same dumps)."""
    d = {
        "log_id": e.log_id, "event_time_ms": e.event_time_ms, "mid": e.mid,
        "up_mid": e.up_mid, "avid": e.avid, "cid": e.cid,
        "play_seconds": e.play_seconds, "progress": e.progress,
        "platform": pb.Platform.Name(e.platform), "buvid": e.buvid, "ip": e.ip,
        "trace_id": e.trace_id,
        "client": {"app_version": e.client.app_version, "os": e.client.os,
                   "network": e.client.network, "screen_width": e.client.screen_width,
                   "screen_height": e.client.screen_height},
        "tags": list(e.tags), "ext": dict(sorted(e.ext.items())), "is_autoplay": e.is_autoplay,
        "quality": e.quality, "recent_avids": list(e.recent_avids),
    }
    return json.dumps(d, separators=(",", ":")) + "\n"


TAGS = {"game", "music", "anime", "tech", "vlog", "food", "sport", "news", "kids", "movie"}
NETS = {"wifi", "4g", "5g", "ethernet"}
OSES = {"android 14", "ios 18.1", "windows 11", "macos 15", "harmonyos 4"}
WIDTHS = {720, 1080, 1440, 1920}
HEIGHTS = {1280, 1920, 2560, 1080}
QUALITY = {16, 32, 64, 80, 112, 116, 120}
RANGES = {"mid": (1, 50_000_000), "up_mid": (1, 2_000_000), "avid": (1, 900_000_000),
          "cid": (1, 2_000_000_000), "play_seconds": (0, 3600), "platform": (0, 4)}


def check_ranges(i, e):
    for f, (lo, hi) in RANGES.items():
        v = getattr(e, f)
        if not lo <= v <= hi:
            fail("record %d: %s = %d outside [%d, %d]" % (i, f, v, lo, hi))
    if not (0.0 <= e.progress <= 1.0 and round(e.progress, 4) == e.progress):
        fail("record %d: progress %r is not a 4-decimal number in [0, 1]" % (i, e.progress))
    if not re.fullmatch(r"XY[0-9A-F]{32}", e.buvid):
        fail("record %d: buvid %r" % (i, e.buvid))
    if not re.fullmatch(r"[0-9a-f]{16}", e.trace_id):
        fail("record %d: trace_id %r" % (i, e.trace_id))
    ip = e.ip.split(".")
    if (len(ip) != 4 or not all(x.isdigit() and str(int(x)) == x for x in ip) or
            not (1 <= int(ip[0]) <= 223 and int(ip[1]) <= 255 and int(ip[2]) <= 255 and
                 1 <= int(ip[3]) <= 254)):
        fail("record %d: ip %r" % (i, e.ip))
    m = re.fullmatch(r"8\.(\d+)\.(\d)", e.client.app_version)
    if not m or int(m.group(1)) > 30 or str(int(m.group(1))) != m.group(1):
        fail("record %d: client.app_version %r" % (i, e.client.app_version))
    if e.client.os not in OSES or e.client.network not in NETS:
        fail("record %d: client os/network %r/%r" % (i, e.client.os, e.client.network))
    if e.client.screen_width not in WIDTHS or e.client.screen_height not in HEIGHTS:
        fail("record %d: screen %dx%d" % (i, e.client.screen_width, e.client.screen_height))
    if len(e.tags) > 4 or len(set(e.tags)) != len(e.tags) or not set(e.tags) <= TAGS:
        fail("record %d: tags %r" % (i, list(e.tags)))
    keys = sorted(e.ext.keys())
    if keys != ["k%d" % k for k in range(len(keys))] or len(keys) > 3:
        fail("record %d: ext keys %r" % (i, keys))
    for v in e.ext.values():
        if not re.fullmatch(r"v(\d|[1-9]\d)", v):
            fail("record %d: ext value %r" % (i, v))
    if e.quality not in QUALITY:
        fail("record %d: quality %d" % (i, e.quality))
    if len(e.recent_avids) > 5 or not all(1 <= a <= 900_000_000 for a in e.recent_avids):
        fail("record %d: recent_avids %r" % (i, list(e.recent_avids)))


def freqs(msgs):
    n = max(len(msgs), 1)
    f = {"autoplay": sum(e.is_autoplay for e in msgs) / n,
         "tags": sum(len(e.tags) for e in msgs) / n,
         "ext": sum(len(e.ext) for e in msgs) / n,
         "recent": sum(len(e.recent_avids) for e in msgs) / n,
         "play_seconds": sum(e.play_seconds for e in msgs) / n / 3600,
         "progress": sum(e.progress for e in msgs) / n}
    for p in range(5):
        f["platform%d" % p] = sum(e.platform == p for e in msgs) / n
    return f


# expected value and tolerance (several standard deviations at a few thousand events)
EXPECT = {"autoplay": (0.3, 0.04), "tags": (2.0, 0.12), "ext": (1.5, 0.1),
          "recent": (2.5, 0.15), "play_seconds": (0.5, 0.03), "progress": (0.5, 0.03),
          **{"platform%d" % p: (0.2, 0.04) for p in range(5)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--pb", required=True)
    ap.add_argument("--jsonl", required=True)
    ap.add_argument("--ref-pb")
    ap.add_argument("--ref-jsonl")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--first-stream", type=int, default=1000)
    ap.add_argument("--start-ms", type=int, default=1764547200000)
    ap.add_argument("--span-s", type=int, default=7200)
    ap.add_argument("--disorder-s", type=int, default=30)
    a = ap.parse_args()
    pb = load_pb2(a.proto)
    from google.protobuf import json_format

    raw = records(a.pb)
    if len(raw) != a.count:
        fail("%s: %d records, expected %d" % (a.pb, len(raw), a.count))
    msgs = []
    for i, b in enumerate(raw):
        e = pb.PlayEvent()
        e.ParseFromString(b)
        again = e.SerializeToString(deterministic=True)
        if again != b:
            fail("record %d: our bytes are not protobuf's canonical encoding:\n  ours %s\n"
                 "  protobuf %s" % (i, b.hex(), again.hex()))
        msgs.append(e)

    lines = open(a.jsonl, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        fail("%s: does not end with a newline" % a.jsonl)
    if len(lines) != len(msgs):
        fail("%s: %d lines, %s has %d records" % (a.jsonl, len(lines), a.pb, len(msgs)))
    for i, (line, e) in enumerate(zip(lines, msgs)):
        j = json_format.Parse(line, pb.PlayEvent())
        if j != e:
            fail("line %d: JSON differs from pb record %d:\n  json %s\n  pb   %s" %
                 (i + 1, i, j, e))
        want = ref_json_line(pb, e)
        if line + "\n" != want:
            fail("line %d: not the line gen_events.py writes:\n  ours %s\n  ref  %s" %
                 (i + 1, line, want.rstrip()))

    span_ms, dis_ms = a.span_s * 1000, a.disorder_s * 1000
    for i, e in enumerate(msgs):
        want_id = "%06d" % (a.first_stream + i % a.streams)
        if e.log_id != want_id:
            fail("record %d: log_id %r, expected %r (round-robin)" % (i, e.log_id, want_id))
        base = a.start_ms + (i * span_ms) // max(a.count, 1)
        lo = max(a.start_ms, base - dis_ms)
        if not lo <= e.event_time_ms <= base:
            fail("record %d: event_time_ms %d outside [%d, %d]" % (i, e.event_time_ms, lo, base))
        check_ranges(i, e)

    ours = freqs(msgs)
    if a.count >= 2000:
        for k, (want, tol) in EXPECT.items():
            if abs(ours[k] - want) > tol:
                fail("frequency %s = %.4f, expected %.3f +- %.3f" % (k, ours[k], want, tol))

    if a.ref_pb:
        ref_raw = records(a.ref_pb)
        ref = []
        for b in ref_raw:
            e = pb.PlayEvent()
            e.ParseFromString(b)
            ref.append(e)
        ref_lines = open(a.ref_jsonl, encoding="utf-8").read().splitlines()
        for what, x, y in (("pb record", [len(b) for b in raw], [len(b) for b in ref_raw]),
                           ("JSON line", [len(s) + 1 for s in lines],
                            [len(s) + 1 for s in ref_lines])):
            mx, my = statistics.mean(x), statistics.mean(y)
            print("check_gen: mean %s size: ours %.1f, gen_events.py %.1f (%+.1f%%)" %
                  (what, mx, my, 100 * (mx / my - 1)))
            if abs(mx / my - 1) > 0.15:
                fail("mean %s size %.1f is not within 15%% of gen_events.py's %.1f" %
                     (what, mx, my))
        theirs = freqs(ref)
        for k, (_, tol) in EXPECT.items():
            if abs(ours[k] - theirs[k]) > 1.5 * tol:
                fail("frequency %s: ours %.4f, gen_events.py %.4f" % (k, ours[k], theirs[k]))

    if not ERRORS:
        print("check_gen: %d records OK (canonical pb, JSON equal, distribution)" % len(msgs))
    report()


if __name__ == "__main__":
    main()
