// check_inspect.mjs - compare `sluice inspect --json` of a Parquet file
// with DuckDB's reading of the same footer (parquet_file_metadata,
// parquet_kv_metadata, parquet_metadata). Test-only.
//
//   node tests/tools/check_inspect.mjs FILE.parquet INSPECT.json
//
// Checks: created_by, num_rows, row group count and rows, key-value pairs;
// per column chunk: path, physical type, codec, encodings, num_values,
// compressed/uncompressed sizes, page offsets, null count, and min/max as
// values (integers exact, floats as float32/float64, strings, booleans,
// timestamps and dates by instant, byte arrays by bytes). Exits 1 with
// every difference listed.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const [file, jsonPath] = process.argv.slice(2);
if (!file || !jsonPath) { console.error('usage: check_inspect.mjs FILE.parquet INSPECT.json'); process.exit(2); }
// Integers of 16+ digits become BigInt (JSON.parse would round them).
const ours = JSON.parse(readFileSync(jsonPath, 'utf8').replace(/([:\[,])(-?\d{16,})(?=[,\]}])/g, '$1"#$2"'),
  (k, v) => typeof v === 'string' && /^#-?\d+$/.test(v) ? BigInt(v.slice(1)) : v);
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const sq = s => "'" + s.replace(/'/g, "''") + "'";
const q = async sql => (await c.runAndReadAll(sql)).getRowObjectsJson();

const diffs = [];
const eq = (what, a, b) => { if (String(a) !== String(b)) diffs.push(`${what}: sluice ${a}, duckdb ${b}`); };

const [fm] = await q(`SELECT * FROM parquet_file_metadata(${sq(file)})`);
eq('created_by', ours.created_by, fm.created_by);
eq('num_rows', ours.num_rows, fm.num_rows);
eq('row groups', ours.row_groups.length, fm.num_row_groups);

const kv = (await c.runAndReadAll(`SELECT key, value FROM parquet_kv_metadata(${sq(file)})`)).getRows()
  .map(([k, v]) => [Buffer.from(k.bytes).toString('utf8'), v === null ? null : Buffer.from(v.bytes).toString('utf8')]);
eq('key-value pairs', JSON.stringify(ours.key_value_metadata.map(p => [p.key, p.value])), JSON.stringify(kv));

const meta = await q(`SELECT * FROM parquet_metadata(${sq(file)}) ORDER BY row_group_id, column_id`);
const logicalOf = Object.fromEntries(ours.columns.map(col => [col.path, col.logical]));

// DuckDB renders blob bounds with \xHH escapes.
function duckBytes(s) {
  const out = [];
  for (let i = 0; i < s.length;) {
    if (s[i] === '\\' && s[i + 1] === 'x') { out.push(parseInt(s.substr(i + 2, 2), 16)); i += 4; }
    else { const ch = String.fromCodePoint(s.codePointAt(i)); out.push(...Buffer.from(ch)); i += ch.length; }
  }
  return Buffer.from(out);
}
// Instants: "2024-03-01T00:00:01.000003Z" vs "2024-03-01 00:00:01.000003[+00]".
function instant(s) {
  const m = /^(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?)?(Z|\+00)?$/.exec(s);
  if (!m) return `unparsed(${s})`;
  return `${m[1]} ${m[2] || ''}.${(m[3] || '').replace(/0+$/, '')}`;
}
const f32 = x => Math.fround(x);

function sameBound(col, logical, o, d) {
  if (o === null || o === undefined || d === null) return (o ?? null) === d;
  if (typeof o === 'boolean') return String(o) === d;
  if (typeof o === 'bigint' || (typeof o === 'number' && Number.isInteger(o) && !/FLOAT|DOUBLE/.test(col.type)
      && !/TIMESTAMP|DATE/.test(logical || ''))) return BigInt(o) === BigInt(d);
  if (col.type === 'FLOAT' || col.type === 'DOUBLE') {
    const a = typeof o === 'string' ? Number(o === 'Infinity' ? Infinity : o === '-Infinity' ? -Infinity : NaN) : o;
    const b = Number(d);
    return col.type === 'FLOAT' ? f32(a) === f32(b) || (isNaN(a) && isNaN(b)) : a === b || (isNaN(a) && isNaN(b));
  }
  if (/TIMESTAMP|DATE/.test(logical || '')) return instant(o) === instant(d);
  if (/STRING|UTF8|ENUM|JSON/.test(logical || '')) return o === d;
  return Buffer.from(o, 'base64').equals(duckBytes(d)); // other byte arrays: base64 vs \x escapes
}

let k = 0;
ours.row_groups.forEach((rg, g) => {
  rg.columns.forEach((col, ci) => {
    const m = meta[k++];
    const at = `row group ${g}, column ${col.path}`;
    if (!m) { diffs.push(`${at}: missing in DuckDB`); return; }
    eq(`${at}: row group rows`, rg.num_rows, m.row_group_num_rows);
    eq(`${at}: path`, col.path, m.path_in_schema.split(', ').join('.'));
    eq(`${at}: type`, col.type, m.type);
    eq(`${at}: codec`, col.codec, m.compression);
    eq(`${at}: encodings`, col.encodings.join(', '), m.encodings);
    eq(`${at}: num_values`, col.num_values, m.num_values);
    eq(`${at}: compressed size`, col.total_compressed_size, m.total_compressed_size);
    eq(`${at}: uncompressed size`, col.total_uncompressed_size, m.total_uncompressed_size);
    eq(`${at}: data_page_offset`, col.data_page_offset, m.data_page_offset);
    eq(`${at}: dictionary_page_offset`, col.dictionary_page_offset ?? null, m.dictionary_page_offset);
    const st = col.statistics || {};
    eq(`${at}: null_count`, st.null_count ?? null, m.stats_null_count);
    for (const [name, o, d] of [['min', st.min, m.stats_min_value], ['max', st.max, m.stats_max_value]])
      if (!sameBound(col, logicalOf[col.path], o, d)) diffs.push(`${at}: ${name} sluice ${o}, duckdb ${d}`);
  });
});
if (k !== meta.length) diffs.push(`column chunks: sluice ${k}, duckdb ${meta.length}`);

if (diffs.length) {
  console.log(`check_inspect: MISMATCH for ${file}`);
  for (const d of diffs.slice(0, 30)) console.log('  ' + d);
  process.exit(1);
}
console.log(`check_inspect: ${file}: ${k} column chunks agree`);
