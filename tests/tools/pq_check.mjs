// pq_check.mjs - read a Parquet file with BOTH DuckDB and hyparquet and
// compare it, value for value, with what the writer was given.
//
// usage: node pq_check.mjs FILE.parquet EXPECTED.json [--no-stats] [--verbose]
// Exit 0 when everything matches; 1 with a precise diff (file, reader, row,
// path, expected vs actual) otherwise; 2 on usage errors.
//
// What is checked
//   - every row and value, as read by DuckDB (read_parquet) and by hyparquet
//     (parquetReadObjects, with hyparquet-compressors for every codec);
//   - the schema: for every node (pre-order, root excluded) its physical
//     type, repetition, ConvertedType, LogicalType and field_id, from
//     hyparquet's footer decoding and DuckDB's parquet_schema(); for leaves
//     also the type DuckDB infers (duckdb_type), when given;
//   - num_rows, the row-group count (>= min_row_groups), created_by and the
//     key-value metadata entries given;
//   - footer statistics of every column chunk (unless --no-stats): min/max
//     (null when the chunk has no non-null non-NaN value), null_count and
//     num_values, recomputed here from the expected rows of that row group
//     with the sort order of the column's type (signed, unsigned for
//     INTEGER(unsigned), floats ignoring NaN with a zero min written as -0.0
//     and a zero max as +0.0, byte-wise for byte arrays), compared with
//     hyparquet's raw statistics and DuckDB's parquet_metadata(). Byte-array
//     bounds longer than 64 bytes must be truncated and flagged inexact: the
//     min a prefix of the true min, the max greater than the true max (or
//     absent when no short upper bound exists, i.e. 64 leading 0xFF bytes).
//
// EXPECTED.json format (one object):
//   {
//     "name": "scenario name",                 (optional, for messages)
//     "num_rows": 1500,                        (optional, default rows.length)
//     "min_row_groups": 1,                     (optional)
//     "created_by": "sluice version ...",      (optional, exact)
//     "kv": {"key": "value" | null, ...},      (optional, must be present)
//     "columns": [                             every schema node but the root,
//       {"path": "client.os",                  in pre-order, dotted path
//        "type": "BYTE_ARRAY" | null,          physical type, null for groups
//        "repetition": "OPTIONAL",             REQUIRED | OPTIONAL | REPEATED
//        "converted_type": "UTF8" | null,
//        "logical_type": {"type": "STRING"} | null,   hyparquet's form:
//            {"type":"INTEGER","bitWidth":64,"isSigned":false}
//            {"type":"TIMESTAMP","isAdjustedToUTC":true,"unit":"MILLIS"}
//            {"type":"LIST"} {"type":"MAP"} {"type":"ENUM"} ...
//        "field_id": 2 | null,
//        "duckdb_type": "VARCHAR"},            (optional, leaves only)
//       ...],
//     "rows": [ {...}, ... ],                  canonical rows, below
//     "page_checks": [                         (optional) per leaf path:
//       {"path": "r_str", "min_data_pages": 3,      some chunk has >= 3 data pages
//        "data_encodings": ["RLE_DICTIONARY", "PLAIN"],  all seen in one chunk
//        "no_encodings": ["RLE_DICTIONARY"]}]            seen in no chunk
//   }
// Every column chunk is also walked page by page (hyparquet's page-header
// decoder): the dictionary page, when present, comes first at
// dictionary_page_offset; data pages follow from data_page_offset; the
// headers plus compressed sizes add up to total_compressed_size and
// (uncompressed) total_uncompressed_size; data pages' num_values add up to
// the chunk's num_values and their statistics' null_count to the chunk's.
//
// Canonical rows (the same form as tests/tools/rowcmp.py and
// src/core/rows_json.h): one object per row, keys = field names, every
// field present (null when null);
//   - integers (INT32, INT64, INTEGER(*), TIMESTAMP in the column's unit)
//     are JSON numbers of any magnitude: this script parses numbers from
//     the text itself, so values beyond 2^53 and UINT_64 stay exact;
//   - FLOAT/DOUBLE are JSON numbers ("-0" is negative zero); NaN and
//     infinities are the strings "NaN", "Infinity", "-Infinity". A FLOAT
//     matches when it rounds to the same float32;
//   - BOOLEAN true/false; STRING and ENUM are JSON strings; other
//     BYTE_ARRAY values are base64 strings;
//   - a group is an object, a LIST an array of its elements, a MAP an array
//     of {"key": k, "value": v} in stored order.
// hyparquet returns maps as JS objects, so for it maps are compared as
// {String(key): value} with the last duplicate winning, order-insensitive.
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetHeader } from './node_modules/hyparquet/src/column.js';

const argv = process.argv.slice(2);
const files = argv.filter((a) => !a.startsWith('--'));
const NO_STATS = argv.includes('--no-stats');
const VERBOSE = argv.includes('--verbose');
if (files.length !== 2) {
  console.error('usage: node pq_check.mjs FILE.parquet EXPECTED.json [--no-stats] [--verbose]');
  process.exit(2);
}
const [pqPath, expPath] = files;
const diffs = [];
const MAX_DIFFS = 30;
function diff(msg) {
  if (diffs.length < MAX_DIFFS) diffs.push(msg);
  else if (diffs.length === MAX_DIFFS) diffs.push('... (more differences not shown)');
}

// ---- JSON with numbers kept as their text ----
class JNum { constructor(text) { this.text = text; } }
function parseJson(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const fail = (m) => { throw new Error(`${expPath}: JSON ${m} at offset ${i}`); };
  function val() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const o = {}; ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws(); const k = str(); ws();
        if (text[i++] !== ':') fail('expected :');
        o[k] = val(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== '}') fail('expected }');
        return o;
      }
    }
    if (c === '[') {
      i++; const a = []; ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(val()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== ']') fail('expected ]');
        return a;
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!m) fail('unexpected character');
    i += m[0].length;
    return new JNum(m[0]);
  }
  function str() {
    if (text[i] !== '"') fail('expected string');
    let j = i + 1;
    while (text[j] !== '"') { if (text[j] === '\\') j++; j++; if (j >= text.length) fail('unterminated string'); }
    const s = JSON.parse(text.slice(i, j + 1));
    i = j + 1;
    return s;
  }
  const v = val(); ws();
  if (i !== text.length) fail('trailing data');
  return v;
}
const plain = (v) => (v instanceof JNum ? Number(v.text) : v);
const deepPlain = (v) => (v instanceof JNum ? Number(v.text) : Array.isArray(v) ? v.map(deepPlain)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepPlain(x)])) : v);

// ---- schema tree (from hyparquet's footer decoding) ----
const isList = (n) => n.element.converted_type === 'LIST' || n.element.logical_type?.type === 'LIST';
const isMap = (n) => n.element.converted_type === 'MAP' || n.element.logical_type?.type === 'MAP';
const isStr = (n) => n.element.converted_type === 'UTF8' || n.element.converted_type === 'ENUM' ||
  ['STRING', 'ENUM'].includes(n.element.logical_type?.type);
const TS_SCALE = { MILLIS: 1000000n, MICROS: 1000n, NANOS: 1n };
function tsScale(n) {
  const lt = n.element.logical_type;
  if (lt?.type === 'TIMESTAMP') return TS_SCALE[lt.unit];
  if (n.element.converted_type === 'TIMESTAMP_MILLIS') return TS_SCALE.MILLIS;
  if (n.element.converted_type === 'TIMESTAMP_MICROS') return TS_SCALE.MICROS;
  return null;
}
const b64 = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');

// Canonical values: null, BigInt (integers; timestamps in nanoseconds),
// number (floats), boolean, string (STRING/ENUM), {b64} (bytes), arrays,
// objects; maps are arrays of [key, value] (or, for hyparquet, sorted
// [String(key), value] pairs).
function canonLeaf(n, v, src) {
  if (v === null || v === undefined) return null;
  const t = n.element.type;
  if (t === 'BOOLEAN') return v;
  if (t === 'INT32' || t === 'INT64') {
    const scale = tsScale(n);
    if (src === 'duck' && scale) {
      if (v.millis !== undefined) return v.millis * 1000000n;
      if (v.micros !== undefined) return v.micros * 1000n;
      if (v.nanos !== undefined) return v.nanos;
    }
    let x;
    if (v instanceof JNum) {
      if (!/^-?\d+$/.test(v.text)) return `not an integer: ${v.text}`;
      x = BigInt(v.text);
    } else x = BigInt(v);
    return scale ? x * scale : x;
  }
  if (t === 'FLOAT' || t === 'DOUBLE') {
    let x = v;
    if (typeof v === 'string') x = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : `bad float ${v}`;
    else if (v instanceof JNum) x = Number(v.text);
    if (t === 'FLOAT' && typeof x === 'number') x = Math.fround(x);
    return x;
  }
  if (t === 'BYTE_ARRAY' || t === 'FIXED_LEN_BYTE_ARRAY') {
    if (src === 'duck' && v.bytes) v = v.bytes;
    if (isStr(n)) return v instanceof Uint8Array ? new TextDecoder().decode(v) : v;
    if (src === 'exp') return { b64: v };
    return { b64: b64(v) };
  }
  return v;
}

function canon(n, v, src) {
  if (v === null || v === undefined) return null;
  if (!n.children.length) return canonLeaf(n, v, src);
  if (isList(n)) {
    const el = n.children[0].children[0];
    const items = src === 'duck' ? v.items : v;
    return items.map((x) => canon(el, x, src));
  }
  if (isMap(n)) {
    const kv = n.children[0];
    const [kn, vn] = kv.children;
    if (src === 'hyp') {
      return Object.entries(v).map(([k, x]) => [k, canon(vn, x, src)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    const entries = src === 'duck' ? v.entries : v;
    return entries.map((e) => [canon(kn, e.key, src), canon(vn, e.value, src)]);
  }
  const o = {};
  const fields = src === 'duck' ? v.entries : v;
  for (const c of n.children) o[c.element.name] = canon(c, fields[c.element.name], src);
  return o;
}

// The expected map as hyparquet presents it: String(key) -> last value.
function mapsAsObjects(n, v) {
  if (v === null) return null;
  if (!n.children.length) return v;
  if (isList(n)) return v.map((x) => mapsAsObjects(n.children[0].children[0], x));
  if (isMap(n)) {
    const vn = n.children[0].children[1];
    const m = new Map();
    for (const [k, x] of v) m.set(typeof k === 'object' && k !== null ? `b64:${k.b64}` : String(k), mapsAsObjects(vn, x));
    return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  const o = {};
  for (const c of n.children) o[c.element.name] = mapsAsObjects(c, v[c.element.name]);
  return o;
}

const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : Object.is(x, -0) ? '-0' : x));

function same(a, b, path, where) {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (typeof a === 'number' && typeof b === 'number') {
      if (!Object.is(a, b)) diff(`${where} ${path}: expected ${show(a)}, got ${show(b)}`);
    } else if (a !== b) diff(`${where} ${path}: expected ${show(a)}, got ${show(b)}`);
    return;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return diff(`${where} ${path}: expected ${show(a)}, got ${show(b)}`);
  if (Array.isArray(a)) {
    if (a.length !== b.length) return diff(`${where} ${path}: expected ${a.length} elements ${show(a).slice(0, 300)}, got ${b.length}: ${show(b).slice(0, 300)}`);
    a.forEach((x, i) => same(x, b[i], `${path}[${i}]`, where));
    return;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (!(k in a) || !(k in b)) diff(`${where} ${path}.${k}: present only in ${k in a ? 'expected' : 'actual'}`);
    else same(a[k], b[k], `${path}.${k}`, where);
  }
}

// ---- leaf walking and statistics ----
function leafChains(root) {
  const out = [];
  const walk = (n, chain) => {
    const c = [...chain, n];
    if (!n.children.length) out.push(c);
    else n.children.forEach((x) => walk(x, c));
  };
  root.children.forEach((x) => walk(x, []));
  return out;
}

// Slots of one leaf in one canonical row: {slots, nulls, values[]}.
function collect(chain, row, acc) {
  const go = (k, v) => {
    const n = chain[k];
    if (v === null || v === undefined) { acc.slots++; acc.nulls++; return; }
    if (!n.children.length) { acc.slots++; acc.values.push(v); return; }
    if (isList(n)) {
      if (!v.length) { acc.slots++; acc.nulls++; return; }
      v.forEach((x) => go(k + 2, x)); // skip the repeated "list" level
      return;
    }
    if (isMap(n)) {
      if (!v.length) { acc.slots++; acc.nulls++; return; }
      const which = chain[k + 2].element.name === 'key' ? 0 : 1;
      v.forEach((e) => go(k + 2, e[which]));
      return;
    }
    go(k + 1, v[chain[k + 1].element.name]);
  };
  go(0, row[chain[0].element.name]);
}

const toBytes = (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v.b64 !== undefined ? Buffer.from(v.b64, 'base64') : Buffer.from(v));
function cmp(n, a, b) {
  const t = n.element.type;
  if (t === 'BYTE_ARRAY') return Buffer.compare(toBytes(a), toBytes(b));
  if (t === 'BOOLEAN') return (a ? 1 : 0) - (b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}
function minmax(n, values) {
  let lo = null, hi = null;
  for (const v of values) {
    if (typeof v === 'number' && Number.isNaN(v)) continue;
    if (lo === null || cmp(n, v, lo) < 0) lo = v;
    if (hi === null || cmp(n, v, hi) > 0) hi = v;
  }
  return [lo, hi];
}

function checkBound(n, where, kind, want, got, exactFlag) {
  const t = n.element.type;
  if (want === null) {
    if (got !== undefined && got !== null) diff(`${where} ${kind}: expected none (no non-null, non-NaN value), got ${show(got)}`);
    return;
  }
  if (got === undefined || got === null) {
    if (t === 'BYTE_ARRAY' && kind === 'max') {
      const w = toBytes(want);
      if (w.length > 64 && w.subarray(0, 64).every((x) => x === 0xff)) return; // no short upper bound exists
    }
    return diff(`${where} ${kind}: missing, expected ${show(want)}`);
  }
  if (t === 'BYTE_ARRAY') {
    const w = toBytes(want), g = toBytes(got);
    if (w.length <= 64) {
      if (Buffer.compare(w, g) !== 0) diff(`${where} ${kind}: expected ${show(want)}, got ${show(g.toString('latin1'))}`);
      if (exactFlag === false) diff(`${where} ${kind}: exact value flagged inexact`);
      return;
    }
    if (g.length > 68) diff(`${where} ${kind}: a ${w.length}-byte bound was not truncated (${g.length} bytes)`);
    if (exactFlag !== false) diff(`${where} ${kind}: truncated bound not flagged inexact`);
    if (kind === 'min' && !(g.length <= w.length && Buffer.compare(w.subarray(0, g.length), g) === 0)) diff(`${where} min: ${show(g.toString('latin1'))} is not a prefix of the true min`);
    if (kind === 'max' && Buffer.compare(g, w) <= 0) diff(`${where} max: truncated max is not above the true max`);
    if (isStr(n) && !isValidUtf8(g)) diff(`${where} ${kind}: truncated bound is not valid UTF-8`);
    return;
  }
  let g = got;
  if (t === 'FLOAT' || t === 'DOUBLE') {
    if (t === 'FLOAT') g = Math.fround(g);
    let w = want;
    if (w === 0) w = kind === 'min' ? -0 : 0; // the spec's zero rule
    if (!Object.is(w, g)) diff(`${where} ${kind}: expected ${show(w)}, got ${show(g)}`);
    return;
  }
  if (t === 'INT32' || t === 'INT64') g = BigInt(g) * (tsScale(n) ?? 1n);
  if (g !== want) diff(`${where} ${kind}: expected ${show(want)}, got ${show(g)}`);
  if (exactFlag === false) diff(`${where} ${kind}: flagged inexact`);
}
function isValidUtf8(b) { try { new TextDecoder('utf-8', { fatal: true }).decode(b); return true; } catch { return false; } }

// DuckDB renders statistics as text; compare where the rendering is plain.
function checkDuckBound(n, where, kind, want, text, exact) {
  const t = n.element.type;
  if (want === null) {
    if (text !== null) diff(`${where} ${kind}: expected none, DuckDB shows ${text}`);
    return;
  }
  if (text === null) {
    if (t === 'BYTE_ARRAY' && kind === 'max' && toBytes(want).length > 64) return; // checked with hyparquet
    if (typeof want === 'number' && !Number.isFinite(want)) return; // DuckDB never shows infinite bounds (its own files neither)
    return diff(`${where} ${kind}: DuckDB shows no value, expected ${show(want)}`);
  }
  if (tsScale(n) || (t === 'BYTE_ARRAY' && !isStr(n))) return; // rendered as dates / escaped bytes
  if (t === 'BYTE_ARRAY') {
    if (Buffer.byteLength(want) <= 64 && text !== want) diff(`${where} ${kind}: DuckDB shows ${show(text)}, expected ${show(want)}`);
    if (Buffer.byteLength(want) > 64 && exact !== false) diff(`${where} ${kind}: DuckDB says a truncated bound is exact`);
    return;
  }
  if (t === 'BOOLEAN') { if (text !== String(want)) diff(`${where} ${kind}: DuckDB shows ${text}, expected ${want}`); return; }
  if (t === 'INT32' || t === 'INT64') { if (text !== String(want)) diff(`${where} ${kind}: DuckDB shows ${text}, expected ${want}`); return; }
  let g = /^-?inf/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : parseFloat(text);
  let w = want === 0 ? (kind === 'min' ? -0 : 0) : want;
  if (t === 'FLOAT') { g = Math.fround(g); w = Math.fround(w); }
  if (!Object.is(g, w)) diff(`${where} ${kind}: DuckDB shows ${text}, expected ${show(w)}`);
}

// ---- main ----
const label = (x) => `${pqPath}${x ? ` [${x}]` : ''}`;
const exp = parseJson(readFileSync(expPath, 'utf8'));
const bytes = readFileSync(pqPath);
const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

const meta = parquetMetadata(ab);
const root = parquetSchema(meta);
const expRows = exp.rows.map((r) => canon(root, r, 'exp'));
const numRows = exp.num_rows !== undefined ? Number(plain(exp.num_rows)) : exp.rows.length;

// schema, via hyparquet
const nodes = meta.schema.slice(1);
if (nodes.length !== exp.columns.length) diff(`schema: ${nodes.length} nodes in the file, ${exp.columns.length} expected`);
const nodePaths = [];
(function paths(n, prefix) { for (const c of n.children) { const p = prefix ? `${prefix}.${c.element.name}` : c.element.name; nodePaths.push(p); paths(c, p); } })(root, '');
exp.columns.forEach((c, i) => {
  const e = nodes[i];
  if (!e) return;
  const where = `schema ${c.path} (hyparquet)`;
  if (nodePaths[i] !== c.path) diff(`${where}: node ${i} is ${nodePaths[i]}`);
  if ((e.type ?? null) !== c.type) diff(`${where}: type ${e.type}, expected ${c.type}`);
  if (e.repetition_type !== c.repetition) diff(`${where}: repetition ${e.repetition_type}, expected ${c.repetition}`);
  if ((e.converted_type ?? null) !== c.converted_type) diff(`${where}: converted_type ${e.converted_type}, expected ${c.converted_type}`);
  if (show(e.logical_type ?? null) !== show(deepPlain(c.logical_type))) diff(`${where}: logical_type ${show(e.logical_type)}, expected ${show(c.logical_type)}`);
  if ((e.field_id ?? null) !== (c.field_id === null ? null : Number(plain(c.field_id)))) diff(`${where}: field_id ${e.field_id}, expected ${plain(c.field_id)}`);
});
if (Number(meta.num_rows) !== numRows) diff(`footer num_rows ${meta.num_rows}, expected ${numRows}`);
if ((meta.row_groups.length < (exp.min_row_groups ? Number(plain(exp.min_row_groups)) : 0))) diff(`${meta.row_groups.length} row groups, expected at least ${plain(exp.min_row_groups)}`);
if (exp.created_by !== undefined && meta.created_by !== exp.created_by) diff(`created_by ${show(meta.created_by)}, expected ${show(exp.created_by)}`);
for (const [k, v] of Object.entries(exp.kv ?? {})) {
  const got = (meta.key_value_metadata ?? []).find((x) => x.key === k);
  if (!got) diff(`key-value metadata ${k}: missing`);
  else if ((got.value ?? null) !== v) diff(`key-value metadata ${k}: ${show(got.value)}, expected ${show(v)}`);
}

// rows, via hyparquet
const identity = (v) => v;
const hypRows = await parquetReadObjects({
  file: ab, compressors, utf8: false,
  parsers: { timestampFromMilliseconds: identity, timestampFromMicroseconds: identity, timestampFromNanoseconds: identity },
});
if (hypRows.length !== numRows) diff(`hyparquet: ${hypRows.length} rows, expected ${numRows}`);
const expForHyp = expRows.map((r) => mapsAsObjects(root, r));
for (let i = 0; i < Math.min(hypRows.length, expRows.length) && diffs.length < MAX_DIFFS; i++) {
  same(expForHyp[i], canon(root, hypRows[i], 'hyp'), `row ${i}`, label('hyparquet'));
}

// rows and schema, via DuckDB
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = pqPath.replaceAll("'", "''");
const duckRes = await con.runAndReadAll(`SELECT * FROM read_parquet('${q}')`);
const duckRows = duckRes.getRowObjects();
if (duckRows.length !== numRows) diff(`DuckDB: ${duckRows.length} rows, expected ${numRows}`);
for (let i = 0; i < Math.min(duckRows.length, expRows.length) && diffs.length < MAX_DIFFS; i++) {
  const r = {};
  for (const c of root.children) r[c.element.name] = canon(c, duckRows[i][c.element.name], 'duck');
  same(expRows[i], r, `row ${i}`, label('DuckDB'));
}
const dschema = (await con.runAndReadAll(`SELECT * FROM parquet_schema('${q}')`)).getRowObjectsJson().slice(1);
exp.columns.forEach((c, i) => {
  const d = dschema[i];
  if (!d) return diff(`schema ${c.path} (DuckDB): missing`);
  const where = `schema ${c.path} (DuckDB)`;
  if (d.name !== c.path.split('.').at(-1)) diff(`${where}: name ${d.name}`);
  if ((d.type ?? null) !== c.type) diff(`${where}: type ${d.type}, expected ${c.type}`);
  if (d.repetition_type !== c.repetition) diff(`${where}: repetition ${d.repetition_type}, expected ${c.repetition}`);
  if ((d.converted_type ?? null) !== c.converted_type) diff(`${where}: converted_type ${d.converted_type}, expected ${c.converted_type}`);
  const fid = c.field_id === null ? null : String(plain(c.field_id));
  if ((d.field_id ?? null) !== fid) diff(`${where}: field_id ${d.field_id}, expected ${fid}`);
  if (c.duckdb_type && d.duckdb_type !== c.duckdb_type) diff(`${where}: DuckDB reads it as ${d.duckdb_type}, expected ${c.duckdb_type}`);
});

// footer statistics per row group and column
if (!NO_STATS) {
  const statMeta = parquetMetadata(ab, { parsers: { stringFromBytes: identity, timestampFromMilliseconds: identity, timestampFromMicroseconds: identity, timestampFromNanoseconds: identity } });
  const dmeta = (await con.runAndReadAll(`SELECT * FROM parquet_metadata('${q}')`)).getRowObjectsJson();
  const chains = leafChains(root);
  let first = 0;
  statMeta.row_groups.forEach((rg, g) => {
    const n = Number(rg.num_rows);
    const rows = expRows.slice(first, first + n);
    first += n;
    chains.forEach((chain, ci) => {
      const leaf = chain.at(-1);
      const path = chain.map((x) => x.element.name).join('.');
      const acc = { slots: 0, nulls: 0, values: [] };
      rows.forEach((r) => collect(chain, r, acc));
      const [lo, hi] = minmax(leaf, acc.values);
      const cm = rg.columns[ci].meta_data;
      const st = cm.statistics ?? {};
      const where = `${label('hyparquet')} row group ${g} column ${path}`;
      if (Number(cm.num_values) !== acc.slots) diff(`${where}: num_values ${cm.num_values}, expected ${acc.slots}`);
      if (st.null_count === undefined || Number(st.null_count) !== acc.nulls) diff(`${where}: null_count ${st.null_count}, expected ${acc.nulls}`);
      checkBound(leaf, where, 'min', lo, st.min_value, st.is_min_value_exact);
      checkBound(leaf, where, 'max', hi, st.max_value, st.is_max_value_exact);
      const d = dmeta.find((x) => Number(x.row_group_id) === g && x.path_in_schema === chain.map((x) => x.element.name).join(', '));
      const dw = `${label('DuckDB')} row group ${g} column ${path}`;
      if (!d) return diff(`${dw}: missing from parquet_metadata`);
      if (Number(d.num_values) !== acc.slots) diff(`${dw}: num_values ${d.num_values}, expected ${acc.slots}`);
      if (Number(d.stats_null_count) !== acc.nulls) diff(`${dw}: null_count ${d.stats_null_count}, expected ${acc.nulls}`);
      checkDuckBound(leaf, dw, 'min', lo, d.stats_min_value, d.min_is_exact);
      checkDuckBound(leaf, dw, 'max', hi, d.stats_max_value, d.max_is_exact);
    });
  });
  if (first !== expRows.length) diff(`row groups hold ${first} rows, expected ${expRows.length}`);
}

// page structure of every column chunk
{
  const view = new DataView(ab);
  const seen = new Map(); // path -> [{pages, encodings:Set}]
  meta.row_groups.forEach((rg, g) => rg.columns.forEach((cc) => {
    const m = cc.meta_data;
    const path = m.path_in_schema.join('.');
    const where = `${label('pages')} row group ${g} column ${path}`;
    const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
    const end = start + Number(m.total_compressed_size);
    const reader = { view, offset: start };
    let values = 0, nulls = 0, unc = 0, pages = 0, dict = 0;
    const encs = new Set();
    try {
      while (reader.offset < end) {
        const at = reader.offset;
        const h = parquetHeader(reader);
        const hl = reader.offset - at;
        unc += hl + h.uncompressed_page_size;
        reader.offset += h.compressed_page_size;
        if (h.type === 'DICTIONARY_PAGE') {
          dict++;
          if (pages || at !== Number(m.dictionary_page_offset)) diff(`${where}: dictionary page at ${at} is not first / not at dictionary_page_offset`);
          if (h.dictionary_page_header.encoding !== 'PLAIN') diff(`${where}: dictionary page encoding ${h.dictionary_page_header.encoding}`);
        } else if (h.type === 'DATA_PAGE') {
          if (!pages && at !== Number(m.data_page_offset)) diff(`${where}: first data page at ${at}, data_page_offset ${m.data_page_offset}`);
          pages++;
          values += h.data_page_header.num_values;
          nulls += Number(h.data_page_header.statistics?.null_count ?? NaN);
          encs.add(h.data_page_header.encoding);
          if (h.data_page_header.encoding === 'RLE_DICTIONARY' && !dict) diff(`${where}: dictionary-encoded page without a dictionary page`);
        } else diff(`${where}: unexpected page type ${h.type}`);
      }
    } catch (e) { diff(`${where}: page headers do not parse: ${e.message}`); return; }
    if (reader.offset !== end) diff(`${where}: pages end at ${reader.offset}, chunk ends at ${end}`);
    if (unc !== Number(m.total_uncompressed_size)) diff(`${where}: pages hold ${unc} uncompressed bytes, total_uncompressed_size says ${m.total_uncompressed_size}`);
    if (values !== Number(m.num_values)) diff(`${where}: data pages hold ${values} values, num_values says ${m.num_values}`);
    if (!NO_STATS && nulls !== Number(m.statistics?.null_count)) diff(`${where}: page null_counts sum to ${nulls}, chunk says ${m.statistics?.null_count}`);
    if (!seen.has(path)) seen.set(path, []);
    seen.get(path).push({ pages, encs });
  }));
  for (const pc of exp.page_checks ?? []) {
    const chunks = seen.get(pc.path) ?? [];
    const want = pc.min_data_pages ? Number(plain(pc.min_data_pages)) : 0;
    if (!chunks.some((c) => c.pages >= want)) diff(`pages ${pc.path}: no chunk has ${want} data pages (${chunks.map((c) => c.pages).join(', ')})`);
    if (pc.data_encodings && !chunks.some((c) => pc.data_encodings.every((e) => c.encs.has(e))))
      diff(`pages ${pc.path}: no chunk uses all of ${pc.data_encodings.join(', ')} (${chunks.map((c) => [...c.encs].join('+')).join('; ')})`);
    for (const e of pc.no_encodings ?? []) if (chunks.some((c) => c.encs.has(e))) diff(`pages ${pc.path}: a chunk uses ${e}`);
    if (!chunks.length) diff(`pages ${pc.path}: no such column`);
  }
  if (VERBOSE) for (const [p, cs] of seen) console.log(`  ${p}: ${cs.map((c) => `${c.pages}[${[...c.encs].join('+')}]`).join(' ')}`);
}

if (diffs.length) {
  console.log(`pq_check ${pqPath}: MISMATCH against ${expPath}`);
  for (const d of diffs) console.log(`  ${d}`);
  process.exit(1);
}
console.log(`pq_check ${pqPath}: ${numRows} rows, ${exp.columns.length} schema nodes, ${meta.row_groups.length} row groups: DuckDB and hyparquet agree with the expected data${NO_STATS ? '' : ' and statistics'}`);
if (VERBOSE) console.log(show(meta.key_value_metadata));
