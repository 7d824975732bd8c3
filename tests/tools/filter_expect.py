#!/usr/bin/python3
"""Reference results for sluice's filter expressions (tests/e2e/0024).

usage: filter_expect.py --proto FILE.proto --message PKG.Msg --records N
                        --exprs N --seed S --input OUT.pb --exprs-out EXPRS.txt
                        --expected EXPECTED.txt

1. Builds N random messages with python-protobuf (every non-repeated field
   set or not at random, edge values: int64/uint64 extremes, 2^53+1, NaN,
   infinities, -0.0, float32 values, empty and non-ASCII strings, unknown
   enum numbers, absent sub-messages) and writes them pb-delimited.
2. Generates random expressions as text over the record's non-repeated
   field paths (literals drawn from the records' values, perturbed, in
   random spellings: keyword case, == and <>, literal on the left,
   parentheses, decimals for integers), plus a few that must not compile.
3. Evaluates each expression on each message with its own tokenizer,
   parser and evaluator written here from the documented semantics
   (docs/formats.md, ETL), reading values from the python-protobuf
   message objects, and writes one line per expression: the keep/drop
   vector ("0110...") or "error" when the expression must not compile.
The e2e script compares that with the C filter's output line by line.
"""
import argparse, math, random, struct, sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pb_expect import load_message_class  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: E402

INT_TYPES = {FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32, FD.TYPE_INT64, FD.TYPE_SINT64,
             FD.TYPE_SFIXED64, FD.TYPE_UINT32, FD.TYPE_FIXED32, FD.TYPE_UINT64, FD.TYPE_FIXED64}
RANGES = {FD.TYPE_INT32: (-2**31, 2**31 - 1), FD.TYPE_SINT32: (-2**31, 2**31 - 1),
          FD.TYPE_SFIXED32: (-2**31, 2**31 - 1), FD.TYPE_INT64: (-2**63, 2**63 - 1),
          FD.TYPE_SINT64: (-2**63, 2**63 - 1), FD.TYPE_SFIXED64: (-2**63, 2**63 - 1),
          FD.TYPE_UINT32: (0, 2**32 - 1), FD.TYPE_FIXED32: (0, 2**32 - 1),
          FD.TYPE_UINT64: (0, 2**64 - 1), FD.TYPE_FIXED64: (0, 2**64 - 1)}
NULL = None


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---- random messages ----

def is_map(fd):
    return fd.type == FD.TYPE_MESSAGE and fd.message_type.GetOptions().map_entry


def rand_scalar(fd, rnd):
    t = fd.type
    if t in INT_TYPES:
        lo, hi = RANGES[t]
        pool = [0, 1, -1, lo, hi, 2**53 + 1, -(2**53 + 1), 2**31, 2**63, 7, 30, 100]
        pool = [v for v in pool if lo <= v <= hi]
        return rnd.choice(pool) if rnd.random() < 0.6 else rnd.randint(max(lo, -1000), min(hi, 1000))
    if t == FD.TYPE_DOUBLE:
        return rnd.choice([0.0, -0.0, 0.1, 0.5, 1.0, 1e300, -1e300, math.nan, math.inf, -math.inf,
                           2.0**53, 2.0**53 + 2, 2.0**63, 2.0**64, 5e-324, -2.5,
                           rnd.uniform(-100, 100)])
    if t == FD.TYPE_FLOAT:
        return f32(rnd.choice([0.0, -0.0, 0.1, 0.5, 1.5, 3.4e38, 1e-45, math.nan, math.inf,
                               -math.inf, 2.0**24 + 2, rnd.uniform(-100, 100)]))
    if t == FD.TYPE_BOOL:
        return rnd.random() < 0.5
    if t == FD.TYPE_STRING:
        return rnd.choice(["", "a", "ab", "b", "it's", "\u00e9t\u00e9", "ios 18.1", "TV", "x" * 40,
                           "A", "%d" % rnd.randint(0, 99)])
    if t == FD.TYPE_BYTES:
        return rnd.choice([b"", b"\x00", b"\xff\x01", b"ab", b"a", b"\x80", bytes([rnd.randint(1, 255)])])
    if t == FD.TYPE_ENUM:
        nums = [v.number for v in fd.enum_type.values]
        if fd.enum_type.file.syntax == "proto3" and rnd.random() < 0.15:
            return 7  # an unknown number of an open enum
        return rnd.choice(nums)
    raise ValueError(t)


def fill(msg, rnd, depth):
    for fd in msg.DESCRIPTOR.fields:
        required = fd.label == FD.LABEL_REQUIRED
        if fd.label == FD.LABEL_REPEATED:
            if is_map(fd) or rnd.random() < 0.7:
                continue
            if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
                if depth < 3:
                    fill(getattr(msg, fd.name).add(), rnd, depth + 1)
            else:
                getattr(msg, fd.name).append(rand_scalar(fd, rnd))
            continue
        if not required and rnd.random() < 0.35:
            continue
        if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            if depth < 4 or required:
                sub = getattr(msg, fd.name)
                sub.SetInParent()
                fill(sub, rnd, depth + 1)
        else:
            setattr(msg, fd.name, rand_scalar(fd, rnd))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


# ---- field paths ----

def paths(desc, prefix="", depth=0):
    """(dotted path, leaf descriptor) of every non-repeated field."""
    out = []
    for fd in desc.fields:
        if fd.label == FD.LABEL_REPEATED:
            continue
        p = prefix + fd.name
        out.append((p, fd))
        if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP) and depth < 3:
            out.extend(paths(fd.message_type, p + ".", depth + 1))
    return out


def get(msg, path):
    """The value of a path under the documented presence rules; NULL when
    absent with presence or below an absent message; True for a present
    message leaf."""
    names = path.split(".")
    for i, name in enumerate(names):
        fd = msg.DESCRIPTOR.fields_by_name[name]
        if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            if not msg.HasField(name):
                return NULL
            msg = getattr(msg, name)
            if i == len(names) - 1:
                return True
            continue
        if fd.has_presence and not msg.HasField(name):
            return NULL
        v = getattr(msg, name)
        return v.encode() if fd.type == FD.TYPE_STRING else v
    return NULL


# ---- the reference evaluator: its own tokenizer and parser (bytes) ----

KW = {b"and", b"or", b"not", b"in", b"is", b"null", b"true", b"false"}
OPS = [b"==", b"!=", b"<>", b"<=", b">=", b"=", b"<", b">"]


class Bad(Exception):
    pass


def tokenize(s):
    toks, i = [], 0
    while i < len(s):
        c = s[i:i + 1]
        if c in b" \t":
            i += 1
        elif c == b"'":
            j, buf = i + 1, bytearray()
            while True:
                if j >= len(s):
                    raise Bad("unterminated string")
                if s[j:j + 1] == b"'":
                    if s[j + 1:j + 2] == b"'":
                        buf += b"'"
                        j += 2
                        continue
                    break
                buf += s[j:j + 1]
                j += 1
            toks.append(("str", bytes(buf)))
            i = j + 1
        elif c.isalpha() or c == b"_":
            j = i
            while j < len(s) and (s[j:j + 1].isalnum() or s[j:j + 1] in b"_."):
                j += 1
            w = s[i:j]
            toks.append(("kw", w.lower()) if w.lower() in KW else ("name", w.decode()))
            i = j
        elif c.isdigit() or (c in b"-+." and i + 1 < len(s) and (s[i + 1:i + 2].isdigit() or s[i + 1:i + 2] == b".")):
            j = i + 1
            while j < len(s) and (s[j:j + 1].isdigit() or s[j:j + 1] in b".eE" or
                                  (s[j:j + 1] in b"+-" and s[j - 1:j] in b"eE")):
                j += 1
            w = s[i:j].decode()
            if any(ch in w for ch in ".eE"):
                toks.append(("num", float(w)))
            else:
                v = int(w)
                if not -2**63 <= v < 2**64:
                    raise Bad("integer range")
                toks.append(("num", v))
            i = j
        elif c in b"(),":
            toks.append((c.decode(), None))
            i += 1
        else:
            for op in OPS:
                if s.startswith(op, i):
                    toks.append(("op", {b"==": "=", b"<>": "!="}.get(op, op.decode())))
                    i += len(op)
                    break
            else:
                raise Bad("character")
    toks.append(("end", None))
    return toks


class Parser:
    """AST: ("and"|"or", a, b), ("not", a), ("cmp", path, fd, op, lit),
    ("in", path, fd, [lit]), ("isnull", path, neg)."""

    def __init__(self, toks, fields):
        self.t, self.k, self.fields = toks, 0, fields

    def peek(self):
        return self.t[self.k]

    def take(self):
        self.k += 1
        return self.t[self.k - 1]

    def kw(self, w):
        return self.peek() == ("kw", w)

    def expr(self):
        a = self.conj()
        while self.kw(b"or"):
            self.take()
            a = ("or", a, self.conj())
        return a

    def conj(self):
        a = self.neg()
        while self.kw(b"and"):
            self.take()
            a = ("and", a, self.neg())
        return a

    def neg(self):
        if self.kw(b"not"):
            self.take()
            return ("not", self.neg())
        if self.peek()[0] == "(":
            self.take()
            a = self.expr()
            if self.take()[0] != ")":
                raise Bad(")")
            return a
        return self.pred()

    def literal(self):
        k, v = self.take()
        if k in ("num", "str"):
            return v
        if (k, v) == ("kw", b"true"):
            return True
        if (k, v) == ("kw", b"false"):
            return False
        raise Bad("literal")

    def field(self):
        k, v = self.take()
        if k != "name" or v not in self.fields:
            raise Bad("field")
        return v, self.fields[v]

    def pred(self):
        k, _ = self.peek()
        if k in ("num", "str") or self.kw(b"true") or self.kw(b"false"):
            lit = self.literal()
            k, op = self.take()
            if k != "op":
                raise Bad("op")
            flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            p, fd = self.field()
            return ("cmp", p, fd, flip, check(fd, lit, flip))
        p, fd = self.field()
        if self.kw(b"is"):
            self.take()
            neg = self.kw(b"not")
            if neg:
                self.take()
            if not self.kw(b"null"):
                raise Bad("null")
            self.take()
            return ("isnull", p, neg)
        neg = self.kw(b"not")
        if neg or self.kw(b"in"):
            if neg:
                self.take()
            if not self.kw(b"in"):
                raise Bad("in")
            self.take()
            if self.take()[0] != "(":
                raise Bad("(")
            lits = [check(fd, self.literal(), "in")]
            while self.peek()[0] == ",":
                self.take()
                lits.append(check(fd, self.literal(), "in"))
            if self.take()[0] != ")":
                raise Bad(")")
            node = ("in", p, fd, lits)
            return ("not", node) if neg else node
        if self.peek()[0] != "op":
            if fd.type != FD.TYPE_BOOL:
                raise Bad("bare non-bool")
            return ("cmp", p, fd, "=", True)
        op = self.take()[1]
        return ("cmp", p, fd, op, check(fd, self.literal(), op))


def check(fd, lit, op):
    """Type rules of the language; enum names become numbers."""
    t = fd.type
    if t in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
        raise Bad("message compared")
    isnum = not isinstance(lit, (bool, bytes))
    if t in INT_TYPES or t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        if isnum:
            return lit
    elif t == FD.TYPE_BOOL:
        if isinstance(lit, bool):
            return lit
    elif t in (FD.TYPE_STRING, FD.TYPE_BYTES):
        if isinstance(lit, bytes):
            return lit
    elif t == FD.TYPE_ENUM:
        if isnum and lit == math.floor(lit):
            return lit
        if isinstance(lit, bytes) and op in ("=", "!=", "in"):
            v = fd.enum_type.values_by_name.get(lit.decode("utf-8", "replace"))
            if v is not None:
                return v.number
    raise Bad("type")


def ev(node, msg):
    """True, False or None (unknown)."""
    k = node[0]
    if k in ("and", "or"):
        a, b = ev(node[1], msg), ev(node[2], msg)
        if k == "and":
            return False if False in (a, b) else None if None in (a, b) else True
        return True if True in (a, b) else None if None in (a, b) else False
    if k == "not":
        a = ev(node[1], msg)
        return None if a is None else not a
    if k == "isnull":
        return (get(msg, node[1]) is NULL) != node[2]
    v = get(msg, node[1])
    if v is NULL:
        return None
    if k == "in":
        return any(v == lit for lit in node[3])
    op, lit = node[3], node[4]
    return {"=": v == lit, "!=": v != lit, "<": v < lit, "<=": v <= lit, ">": v > lit,
            ">=": v >= lit}[op]


# ---- random expressions ----

def spell(rnd, w):
    return rnd.choice([w, w.upper(), w.capitalize()])


def lit_text(rnd, fd, v):
    """A literal for field fd near value v (a value of some record)."""
    t = fd.type
    if t == FD.TYPE_BOOL:
        return rnd.choice(["true", "false", "TRUE"])
    if t in (FD.TYPE_STRING, FD.TYPE_BYTES):
        b = v if isinstance(v, bytes) else rand_scalar(fd, rnd)
        if isinstance(b, str):
            b = b.encode()
        if rnd.random() < 0.3:
            b = b[:rnd.randint(0, len(b))] + rnd.choice([b"", b"a", b"\x7f", b"z"])
        b = bytes(x for x in b if x not in (0, 10, 13))
        return b"'" + b.replace(b"'", b"''") + b"'"
    if t == FD.TYPE_ENUM and rnd.random() < 0.5:
        return rnd.choice(fd.enum_type.values).name.join("''")
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v is None or (
            isinstance(v, float) and not math.isfinite(v)):
        v = rand_scalar(fd, rnd) if t != FD.TYPE_ENUM else rnd.randint(-3, 7)
        if isinstance(v, float) and not math.isfinite(v):
            v = 1.5
    r = rnd.random()
    if isinstance(v, int):
        if 0.15 <= r < 0.2 and t != FD.TYPE_ENUM:
            return rnd.choice(["-0.5", "-1e-300", "-1.0", "0.0"])
        if r < 0.15:
            v += rnd.choice([-1, 1])
        if t != FD.TYPE_ENUM and r > 0.85:
            return repr(v + rnd.choice([0.5, -0.5, 0.0]) if abs(v) < 2**52 else float(v))
        if t == FD.TYPE_ENUM and r > 0.9:
            return "%d.0" % v
        return str(max(-2**63, min(2**64 - 1, v)))
    if r < 0.2:
        v = v * 1.5 + 1
    if r > 0.9 and v == int(v) and abs(v) < 2**60:
        return str(int(v))
    return repr(v)


def B(x):
    return x if isinstance(x, bytes) else x.encode()


def J(*parts):
    return b"".join(B(x) for x in parts)


def gen_pred(rnd, plist, values):
    p, fd = rnd.choice(plist)
    if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP) or rnd.random() < 0.12:
        return J(p, " ", spell(rnd, "is"), " ", spell(rnd, rnd.choice(["null", "not null"])))
    if fd.type == FD.TYPE_BOOL and rnd.random() < 0.3:
        return B(p)

    def lit():
        vs = values.get(p) or [None]
        return B(lit_text(rnd, fd, rnd.choice(vs)))
    if rnd.random() < 0.2:
        ls = [lit() for _ in range(rnd.randint(1, 4))]
        neg = spell(rnd, "not") + " " if rnd.random() < 0.4 else ""
        return J(p, " ", neg, spell(rnd, "in"), " (", b", ".join(ls), ")")
    l = lit()
    if fd.type == FD.TYPE_ENUM and l.startswith(b"'"):
        ops = ["=", "!=", "<>", "=="]
    else:
        ops = ["=", "==", "!=", "<>", "<", "<=", ">", ">="]
    op = rnd.choice(ops)
    if rnd.random() < 0.15:
        return J(l, " ", op, " ", p)
    return J(p, rnd.choice([" ", ""]), op, rnd.choice([" ", ""]), l)


def gen_expr(rnd, plist, values, depth=0):
    r = rnd.random()
    if depth >= 3 or r < 0.4:
        return gen_pred(rnd, plist, values)
    if r < 0.5:
        return J(spell(rnd, "not"), " ", gen_expr(rnd, plist, values, depth + 1))
    a, b = gen_expr(rnd, plist, values, depth + 1), gen_expr(rnd, plist, values, depth + 1)
    e = J(a, " ", spell(rnd, rnd.choice(["and", "or"])), " ", b)
    return J("(", e, ")") if rnd.random() < 0.5 else e


def bad_exprs(plist):
    """Expressions that must not compile (each kind of compile error)."""
    out = []
    for p, fd in plist:
        t = fd.type
        if t in INT_TYPES:
            out.append("%s = 'abc'" % p)
        elif t == FD.TYPE_STRING:
            out.append("%s > 3" % p)
        elif t == FD.TYPE_ENUM:
            out.append("%s = 'NO_SUCH_NAME'" % p)
            out.append("%s < '%s'" % (p, fd.enum_type.values[0].name))
        elif t == FD.TYPE_MESSAGE:
            out.append("%s = 1" % p)
        elif t == FD.TYPE_BOOL:
            out.append("%s = 1" % p)
    return out[:20] + ["no_such_field = 1", "(%s is null" % plist[0][0], "%s = null" % plist[0][0]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--records", type=int, default=400)
    ap.add_argument("--exprs", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--input", required=True)
    ap.add_argument("--exprs-out", required=True)
    ap.add_argument("--expected", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    cls = load_message_class(a.proto, a.message)[0]
    msgs = []
    with open(a.input, "wb") as f:
        for _ in range(a.records):
            m = cls()
            fill(m, rnd, 0)
            data = m.SerializeToString()
            f.write(varint(len(data)) + data)
            msgs.append(cls.FromString(data))
    plist = paths(cls.DESCRIPTOR)
    fields = dict(plist)
    values = {}
    for m in msgs:
        for p, fd in plist:
            v = get(m, p)
            if v is not NULL and fd.type not in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
                values.setdefault(p, []).append(v)
    exprs = [gen_expr(rnd, plist, values) for _ in range(a.exprs)] + bad_exprs(plist)
    n_keep = n_err = 0
    with open(a.exprs_out, "wb") as fe, open(a.expected, "w") as fx:
        for e in exprs:
            eb = e if isinstance(e, bytes) else e.encode()
            fe.write(eb + b"\n")
            try:
                p = Parser(tokenize(eb), fields)
                tree = p.expr()
                if p.peek()[0] != "end":
                    raise Bad("trailing")
            except Bad:
                fx.write("error\n")
                n_err += 1
                continue
            bits = "".join("1" if ev(tree, m) is True else "0" for m in msgs)
            n_keep += bits.count("1")
            fx.write(bits + "\n")
    sys.stderr.write("filter_expect: %d records, %d expressions (%d must not compile), "
                     "%.1f%% kept\n" % (len(msgs), len(exprs), n_err,
                                        100.0 * n_keep / max(1, len(msgs) * (len(exprs) - n_err))))


if __name__ == "__main__":
    main()
