#!/usr/bin/env bash
# 0007 json-vs-protobuf (local, no broker): our JSON lines decoder against
# protobuf's own JSON parser (python-protobuf json_format).
#
# Inputs:
#   - 2000 reference PlayEvents as JSON lines (gen_events.py --jsonl: proto
#     names, enum names, int64 as numbers), and the same events as protobuf
#     itself prints them (json_format.MessageToJson: lowerCamelCase names,
#     int64 as strings, defaults omitted);
#   - a hand-written adversarial set for tests/data/alltypes3.proto (escapes,
#     surrogate pairs, raw UTF-8, both field spellings, int64 as strings,
#     exponent integers, NaN/Infinity, base64 variants, nulls, oneofs, maps
#     with int/bool/uint/sint/fixed keys, nesting) with bad lines that both
#     parsers must reject; the same with --ignore-unknown; a proto2 set
#     (alltypes2.proto: required fields, closed enums, groups);
#   - a "stricter" set: lines Python's parser accepts by accident of Python
#     (json_dec.c's top comment lists them) and we reject on purpose.
# Each is decoded by the driver (tests/unit/test_json.c "dump": lines ->
# plan -> batches -> sl_batch_validate -> canonical rows via sl_rows_json)
# and by tests/tools/json_expect.py, then compared with rowcmp.py. The set
# of rejected lines must be equal too, and every error must name the line,
# its byte offset in the file, and the byte offset and JSON path in the
# line.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0007"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="$(dirname "$SLUICE")/test_json"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_json)"
GEN="$SL_SRC/bench/gen_events.py"
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_events.py
TOOLS="$SL_SRC/tests/tools"
DATA="$SL_SRC/tests/data"

# run NAME PROTO MESSAGE INPUT [--ignore-unknown]
run() {
  local name=$1 proto=$2 msg=$3 in=$4 opt=${5:-}
  "$PY" "$TOOLS/json_expect.py" --proto "$proto" --message "$msg" --input "$in" \
    --out "$T/$name.expected.jsonl" --bad "$T/$name.expected-bad" $opt
  "$DRV" dump jsonl "$proto" "$msg" "$in" $opt > "$T/$name.actual.jsonl" 2> "$T/$name.errors" ||
    { cat "$T/$name.errors" >&2; fail "$name: driver failed"; }
  "$PY" "$TOOLS/rowcmp.py" "$T/$name.expected.jsonl" "$T/$name.actual.jsonl" --label "$name" ||
    fail "$name: rows differ"
  grep -Ev '^record [0-9]+ at byte [0-9]+: (byte [0-9]+, \$[^:]*: |.*required field)' \
    "$T/$name.errors" && fail "$name: error lines without line/offset/path context (above)"
  sed -n 's/^record \([0-9]*\) at byte.*/\1/p' "$T/$name.errors" > "$T/$name.actual-bad"
  diff <(cut -d' ' -f1 "$T/$name.expected-bad" | sort -n) <(sort -n "$T/$name.actual-bad") ||
    { cat "$T/$name.errors" >&2; fail "$name: rejected lines differ (< python, > ours)"; }
  echo "$name: $(wc -l < "$T/$name.actual.jsonl") rows equal," \
       "$(wc -l < "$T/$name.actual-bad") lines rejected by both"
}

# stricter NAME PROTO MESSAGE INPUT [--ignore-unknown]: python accepts every
# line, we reject every one.
stricter() {
  local name=$1 proto=$2 msg=$3 in=$4 opt=${5:-}
  "$PY" "$TOOLS/json_expect.py" --proto "$proto" --message "$msg" --input "$in" \
    --out "$T/$name.expected.jsonl" --bad "$T/$name.expected-bad" $opt
  [ -s "$T/$name.expected-bad" ] &&
    fail "$name: python rejects lines listed as accepted by python: $(cat "$T/$name.expected-bad")"
  "$DRV" dump jsonl "$proto" "$msg" "$in" $opt > "$T/$name.actual.jsonl" 2> "$T/$name.errors" ||
    fail "$name: driver failed"
  [ -s "$T/$name.actual.jsonl" ] && fail "$name: we accepted: $(cat "$T/$name.actual.jsonl")"
  [ "$(grep -c '^record ' "$T/$name.errors")" = "$(wc -l < "$in")" ] ||
    fail "$name: not every line rejected"
  echo "$name: $(wc -l < "$in") lines python accepts, rejected by our stricter rules"
}

# 1. reference events, as gen_events.py writes them and as protobuf prints them
"$PY" "$GEN" --count 2000 --out "$T/events.pb" --jsonl "$T/events.jsonl"
run play_event "$DATA/play_event.proto" bench.PlayEvent "$T/events.jsonl"
[ -s "$T/play_event.errors" ] && fail "play_event: unexpected errors"
"$PY" - "$DATA/play_event.proto" "$T/events.pb" "$T/events-camel.jsonl" <<'EOF'
import sys
sys.path.insert(0, sys.argv[0] and __import__("os").environ["SL_SRC"] + "/tests/tools")
from pb_expect import load_message_class, varint_frames
from google.protobuf import json_format
cls, _ = load_message_class(sys.argv[1], "bench.PlayEvent")
with open(sys.argv[2], "rb") as f, open(sys.argv[3], "w") as out:
    for rec in varint_frames(f.read()):
        out.write(json_format.MessageToJson(cls.FromString(rec), indent=None) + "\n")
EOF
grep -q '"eventTimeMs": "' "$T/events-camel.jsonl" || fail "camelCase input not as expected"
run play_event_camel "$DATA/play_event.proto" bench.PlayEvent "$T/events-camel.jsonl"
[ -s "$T/play_event_camel.errors" ] && fail "play_event_camel: unexpected errors"

# 2. adversarial lines for alltypes3: accepted ones...
cat > "$T/adv3.jsonl" <<'EOF'
{}
{"fInt32":-2147483648,"fInt64":"-9223372036854775808","fUint32":4294967295,"fUint64":"18446744073709551615","fSint32":-1,"fSint64":"9223372036854775807","fFixed32":0,"fFixed64":18446744073709551615,"fSfixed32":2147483647,"fSfixed64":-9223372036854775808}
{"f_int32":1,"f_int64":2,"f_uint32":"3","f_uint64":"4","f_sint32":"-5","f_sint64":-6,"f_fixed32":"7","f_fixed64":"8","f_sfixed32":"-9","f_sfixed64":"-10"}
{"fInt32":1e3,"fInt64":-2.5e1,"fUint32":10.0,"fSint64":1E2,"fFixed64":"007","fSint32":-0,"fUint64":"-0"}
{"fInt64":9007199254740993.0,"fUint64":1.8446744073709550e19,"fSfixed64":9007199254740993}
{"fFloat":"NaN","fDouble":"-Infinity","oDouble":"Infinity"}
{"fFloat":3.4028234e38,"fDouble":1.7976931348623157e308,"oDouble":4.9e-324}
{"fFloat":"1.5","fDouble":"-2.5e-3","oDouble":-0.0}
{"fDouble":0.1,"fFloat":0.1,"oDouble":123456789012345678901234567890}
{"fDouble":1e-400,"oDouble":"1.5e300","fFloat":-1.17549435e-38}
{"fString":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 ü€𝄞","oString":""}
{"fString":"\u0000\u001f\u007f\uffff\uDBFF\uDFFF","rString":["","x","\ud834\udd1e","日本語"]}
{"fBytes":"aGVsbG8=","oBytes":"aGVsbG8","rBytes":["_-8","/+8=","","AA==","AAA","AAAA"]}
{"fBytes":"\u0061GVsbG8="}
{"fEnum":"GREEN","oEnum":-3,"cEnum":"2","rEnum":["RED",2,"BLUE",0,7]}
{"fEnum":7,"oEnum":"COLOR_UNSPECIFIED"}
{"fBool":true,"oBool":false,"rBool":[true,false,true]}
{"fInt32":null,"oInt32":null,"leaf":null,"rInt32":null,"mStrStr":null,"cInt":null,"top":{"mid":null},"fString":null,"oEnum":null}
{"cInt":null,"cStr":"x"}
{"cLeaf":{}}
{"cLeaf":{"name":"n","v":"5","opt":0,"color":"BLUE"}}
{"cEnum":"RED"}
{"c_int":0}
{"top":{"mid":{"leaf":{"name":"x","opt":0},"leaves":[{"v":"1"},{}],"n":3,"leafMap":{"k":{"color":"RED"},"j":{}}},"tag":"t","nums":[1,-2,3]},"leaf":{"name":"L"}}
{"mIntInt":{"1":"2","-3":4,"01":5},"mBoolStr":{"true":"t","false":"f"},"mUintDouble":{"4294967295":"NaN","0":1.5},"mSintBytes":{"-9223372036854775808":"AQ=="},"mFixedBool":{"0":true,"4294967295":false},"mStrEnum":{"é":"BLUE","":3},"mIntLeaf":{"7":{"v":"8"},"-1":{}}}
{"m_str_str":{"b":"1","a":"2","c":"3"},"m_int_leaf":{"9223372036854775807":{"name":"max"}},"m_int_int":{"2147483647":"-9223372036854775808"}}
{"rInt32":[1,-1],"rInt64":["9223372036854775807",-1],"rUint32":[4294967295],"rUint64":["18446744073709551615",0],"rSint32":[-2147483648],"rSint64":[1],"rFixed32":[1],"rFixed64":["1"],"rSfixed32":[-1],"rSfixed64":[-1],"rFloat":[1.5,"NaN","-Infinity"],"rDouble":[0.5,"1e-300"],"rUnpacked":[1,2,3],"rLeaf":[{"name":"a"},{"v":1}]}
{"rInt32":[],"mStrStr":{},"leaf":{},"top":{"mid":{"leaves":[]}}}
{"oInt32":0,"oUint64":"0","oString":"","oBytes":"","oEnum":"COLOR_UNSPECIFIED","oBool":false,"oDouble":0}
{"far_away":-1,"fString":"\"quoted\" and \\backslashed\\"}
 	{ "fInt32" : 1 , "fInt64" : 2 , "rInt32" : [ 1 , 2 ] , "mStrStr" : { "a" : "b" } } 	
{"fInt32":"x"}
{"fInt32":1} x
"x"
{"fInt32":1,}
{fInt32:1}
{"fInt32" 1}
{"fInt32":1 "fInt64":2}
{"fInt32":1
{"nope":1}
{"leaf":{"nope":1}}
{"fInt32":1,"fInt32":2}
{"leaf":{"v":"1","v":"2"}}
{"fInt32":2147483648}
{"fInt32":-2147483649}
{"fInt32":1.5}
{"fUint32":-1}
{"fUint64":"18446744073709551616"}
{"fInt64":1e19}
{"fInt32":"1e3"}
{"fInt32":"1.0"}
{"fInt32":" 1"}
{"fInt32":true}
{"fInt32":01}
{"fInt32":-}
{"fInt32":1.}
{"fInt32":.5}
{"fDouble":1e400}
{"fFloat":1e39}
{"fFloat":3.4028236e38}
{"fDouble":NaN}
{"fDouble":Infinity}
{"fDouble":"nan"}
{"fBool":"true"}
{"fBool":1}
{"fBool":tru}
{"fString":1}
{"fString":"\ud800"}
{"fString":"\udc00"}
{"fString":"\ud800\u0041"}
{"fString":"\x"}
{"fString":"\u12G4"}
{"fString":"a	b"}
{"fString":"abc
{"fBytes":"Q"}
{"fBytes":1}
{"fEnum":"PURPLE"}
{"fEnum":"red"}
{"cInt":1,"cStr":"a"}
{"cLeaf":{},"cEnum":0}
{"leaf":1}
{"rInt32":1}
{"rInt32":[1,null]}
{"rInt32":[1,]}
{"rLeaf":[{"v":"x"}]}
{"rLeaf":[null]}
{"mStrStr":[]}
{"mStrStr":{"a":null}}
{"mStrStr":{"a":1}}
{"mIntLeaf":{"1":null}}
{"mIntInt":{"x":1}}
{"mIntInt":{"2147483648":1}}
{"mIntInt":{"1.0":1}}
{"mUintDouble":{"-1":1}}
{"mBoolStr":{"yes":"a"}}
{"mBoolStr":{"True":"a"}}
{"mStrStr":{"a":"1","a":"2"}}
{"top":{"mid":{"leaves":[{},{"opt":1.25}]}}}
EOF
# ... and raw bytes a heredoc cannot hold well
printf '{"fString":"\xff"}\n{"fString":"\xc0\xaf"}\n{"fString":"\xed\xa0\x80"}\n' >> "$T/adv3.jsonl"
printf '{"fString":"\xe2\x82"}\n{"f\xffString":1}\n{"fString":"\xf4\x90\x80\x80"}\n' >> "$T/adv3.jsonl"
printf '{"fString":"ok\xf0\x9f\x98\x80\xc3\xa9"}\n' >> "$T/adv3.jsonl"
run alltypes3 "$DATA/alltypes3.proto" t3.AllTypes "$T/adv3.jsonl"
[ "$(wc -l < "$T/alltypes3.actual-bad")" -ge 70 ] || fail "alltypes3: too few bad lines exercised"

cat > "$T/unknown3.jsonl" <<'EOF'
{"zzz":{"a":[1,2.5e3,{"b":null}],"c":"\u00e9"},"fInt32":5,"y":[],"w":{},"t":true,"f":false,"n":null}
{"leaf":{"unknownInner":true,"name":"n"},"mIntLeaf":{"1":{"what":[{}]}}}
{"mStrStr":{"k":"v"},"zz":null}
{"zzz":1,"zzz":2}
{"zzz":{"a":1,"a":2}}
{"zzz":[1,}
{"zzz":NaN}
{"zzz":1
EOF
run unknown3 "$DATA/alltypes3.proto" t3.AllTypes "$T/unknown3.jsonl" --ignore-unknown

cat > "$T/adv2.jsonl" <<'EOF'
{"id":"1","reqInner":{"id":2}}
{"id":1,"req_inner":{"id":1,"label":"x","size":"HUGE"},"oInt32":0,"oUint32":4294967295,"oUint64":"18446744073709551615","oFloat":"Infinity","oBool":false,"oString":"","oBytes":"AQL/","oSize":"SMALL"}
{"id":1,"reqInner":{"id":1},"grp":{"gA":3,"gB":"b","sub":[{"sX":"4"},{}]},"rgrp":[{"rgId":1},{"rgId":2}]}
{"id":1,"reqInner":{"id":1},"mLevel":{"5":"HIGH","6":0},"mInner":{"a":{"id":3},"b":{"id":4,"size":1000}}}
{"id":1,"reqInner":{"id":1},"pSize":"MEDIUM","rSize":["SMALL",3,"HUGE"],"rBool":[true],"rDoublePacked":[1.5,"NaN"]}
{"id":1,"reqInner":{"id":1},"pInner":{"id":9},"inners":[{"id":1},{"id":2,"label":null}]}
{"id":1}
{"reqInner":{"id":1}}
{"id":1,"reqInner":{}}
{"id":1,"reqInner":{"id":1},"mInner":{"a":{}}}
{"id":1,"reqInner":{"id":1},"inners":[{}]}
{"id":1,"reqInner":{"id":1},"rgrp":[{}]}
{"id":1,"reqInner":{"id":1},"oSize":7}
{"id":1,"reqInner":{"id":1},"rSize":[1,4]}
{"id":1,"reqInner":{"id":1},"mLevel":{"1":3}}
{"id":1,"reqInner":{"id":1},"pInt":1,"pSize":"SMALL"}
EOF
run alltypes2 "$DATA/alltypes2.proto" t2.AllTypes2 "$T/adv2.jsonl"

# 3. what python accepts by accident and we reject by design
cat > "$T/strict3.jsonl" <<'EOF'
{"fInt32":1,"f_int32":2}
{"fBytes":"QQ="}
{"fBytes":"QQ==QQ=="}
{"fBytes":"Q!Q=="}
{"fFloat":"1e39"}
{"fDouble":"1e400"}
{"fDouble":"inf"}
{"fDouble":" 1"}
{"fDouble":"1_0"}
{"fInt32":"+1"}
{"fInt32":"1_000"}
{"fEnum":1.5}
{"fEnum":true}
{"fEnum":"2 "}
{"leaf":[]}
{"leaf":""}
[]
{"fDouble":true}
{"fFloat":false}
EOF
stricter strict3 "$DATA/alltypes3.proto" t3.AllTypes "$T/strict3.jsonl"
# unknown values: a lone surrogate, nesting past our bound (python's is ~1000)
{ echo '{"zzz":"\ud800"}'
  printf '{"zzz":%s%s}\n' "$(printf '[%.0s' {1..300})" "$(printf ']%.0s' {1..300})"; } \
  > "$T/strict-unknown3.jsonl"
stricter strict-unknown3 "$DATA/alltypes3.proto" t3.AllTypes "$T/strict-unknown3.jsonl" \
  --ignore-unknown
echo "0007: ok"
