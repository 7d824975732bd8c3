// pq_rows.mjs - dump a Parquet file's rows as DuckDB reads them, in the
// canonical row form of tests/tools/rowcmp.py (one JSON object per line).
// Test-only: this is the reference side of "our reader reads what DuckDB
// reads", so it uses nothing of sluice.
//
//   node tests/tools/pq_rows.mjs FILE.parquet > rows.jsonl
//
// DuckDB normalizes some values on read (every timestamp becomes micros or
// nanos, dates become day numbers); the canonical form wants the value as
// stored in the column's unit. So the file's own schema, from DuckDB's
// parquet_schema(), is walked alongside each value: it says a leaf's
// timestamp unit and where LIST/MAP wrappers are.
//
// Also usable as a module: rowsOf(connection, file) -> array of JSON lines.
import { DuckDBInstance } from '@duckdb/node-api';
import { pathToFileURL } from 'node:url';

const sq = s => "'" + String(s).replace(/'/g, "''") + "'";

// Rebuild the schema tree from parquet_schema()'s pre-order element list.
async function schemaTree(conn, file) {
  const r = await conn.runAndReadAll(
    `SELECT name, type, repetition_type, num_children, converted_type, logical_type
       FROM parquet_schema(${sq(file)})`);
  const els = r.getRowObjectsJson();
  let i = 0;
  function node() {
    const e = els[i++];
    const n = {
      name: e.name, type: e.type, rep: e.repetition_type,
      conv: e.converted_type, logical: e.logical_type || '',
      children: [],
    };
    const k = Number(e.num_children || 0);
    for (let c = 0; c < k; c++) n.children.push(node());
    return n;
  }
  return node();
}

const isList = n => n.conv === 'LIST' || /^ListType/.test(n.logical);
const isMap = n => n.conv === 'MAP' || /^MapType/.test(n.logical);

// LogicalTypes.md backward-compatibility rules for the element of a LIST.
function listElement(list) {
  const r = list.children[0];
  if (r.type !== null || r.children.length !== 1) return r;
  if (r.name === 'array' || r.name === list.name + '_tuple') return r;
  return r.children[0];
}

function tsUnit(n) {
  if (/NANOS=NanoSeconds/.test(n.logical)) return 'ns';
  if (/MILLIS=MilliSeconds/.test(n.logical) || n.conv === 'TIMESTAMP_MILLIS') return 'ms';
  return 'us';
}

function num(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

// A DuckDB value of a leaf, in canonical form (bigints stay BigInt here and
// are printed exactly by stringify below).
function leaf(v, n) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return num(v);
  const cls = v.constructor && v.constructor.name;
  if ('micros' in v || 'nanos' in v || 'millis' in v) {
    const unit = tsUnit(n);
    if ('nanos' in v) return unit === 'ns' ? v.nanos : unit === 'us' ? v.nanos / 1000n : v.nanos / 1000000n;
    const us = 'micros' in v ? v.micros : v.millis * 1000n;
    return unit === 'ms' ? us / 1000n : unit === 'ns' ? us * 1000n : us;
  }
  if ('days' in v) return v.days;
  if ('bytes' in v) return Buffer.from(v.bytes).toString('base64');
  throw new Error(`pq_rows: no canonical form for ${cls} in column ${n.name}`);
}

// The value of one field (node) of a present parent.
function field(v, n) {
  if (n.rep === 'REPEATED') {
    if (v === null) return [];
    return v.items.map(e => instance(e, n));
  }
  return instance(v, n);
}

function instance(v, n) {
  if (v === null || v === undefined) return null;
  if (n.type !== null) return leaf(v, n);
  if (isList(n) && n.children.length === 1 && n.children[0].rep === 'REPEATED') {
    const el = listElement(n);
    return v.items.map(e => (el === n.children[0] ? instance(e, el) : field(e, el)));
  }
  if (isMap(n) && n.children.length === 1 && n.children[0].children.length === 2) {
    const [k, val] = n.children[0].children;
    return v.entries.map(e => ({ key: field(e.key, k), value: field(e.value, val) }));
  }
  const out = {};
  for (const c of n.children) out[c.name] = field(v.entries[c.name] ?? null, c);
  return out;
}

// JSON with exact bigints.
export function stringify(x) {
  if (x === null) return 'null';
  if (typeof x === 'bigint') return x.toString();
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string') return JSON.stringify(x);
  if (Array.isArray(x)) return '[' + x.map(stringify).join(',') + ']';
  return '{' + Object.entries(x).map(([k, v]) => JSON.stringify(k) + ':' + stringify(v)).join(',') + '}';
}

export async function rowsOf(conn, file) {
  const root = await schemaTree(conn, file);
  const r = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sq(file)})`);
  const names = r.columnNames();
  return r.getRows().map(row => {
    const o = {};
    names.forEach((name, i) => { o[name] = field(row[i], root.children[i]); });
    return stringify(o);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) { console.error('usage: pq_rows.mjs FILE.parquet'); process.exit(2); }
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const lines = await rowsOf(conn, file);
  process.stdout.write(lines.map(l => l + '\n').join(''));
}
