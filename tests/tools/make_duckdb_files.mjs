// make_duckdb_files.mjs - have DuckDB write a set of Parquet files for the
// reader tests, and dump DuckDB's own reading of each (pq_rows.mjs).
//
//   node tests/tools/make_duckdb_files.mjs OUTDIR [--small]
//
// Writes OUTDIR/NAME.parquet and OUTDIR/NAME.duckdb.jsonl (canonical rows,
// as DuckDB reads them) for every NAME, and OUTDIR/files.txt listing the
// names. The files cover: nested lists (of scalars, of lists, of structs),
// structs (nested, null at every level), maps (string and integer keys,
// null and empty), every integer width signed and unsigned, floats with
// NaN/Infinity, booleans, strings (escapes, UTF-8), blobs, timestamps in
// ms/us/ns with and without UTC, dates; low-cardinality columns (DuckDB
// dictionary-encodes them) and unique ones (PLAIN, or DELTA_* in V2);
// every codec DuckDB and sluice share (uncompressed, snappy, gzip, zstd,
// lz4_raw) x PARQUET_VERSION V1 and V2 (data page v2, DELTA encodings,
// BYTE_STREAM_SPLIT floats); many row groups; an empty file; all-null
// columns.
//
// --small: a handful of tiny files (a few rows each, < 4 KiB) for the
// fuzz seed corpus, without the .jsonl dumps.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { rowsOf } from './pq_rows.mjs';

const out = process.argv[2];
const small = process.argv.includes('--small');
if (!out) { console.error('usage: make_duckdb_files.mjs OUTDIR [--small]'); process.exit(2); }
mkdirSync(out, { recursive: true });

const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
await c.run(`SET threads=1`);
await c.run(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);

// One table with everything; i drives every value deterministically.
const everything = n => `
SELECT
  i::BIGINT AS id,
  (i % 7 - 3)::TINYINT AS i8,
  (i * 37 % 256)::UTINYINT AS u8,
  (i * 101 % 65536 - 32768)::SMALLINT AS i16,
  (i * 7919 % 65536)::USMALLINT AS u16,
  (i * 2654435761 % 4294967296 - 2147483648)::INTEGER AS i32,
  (i * 2654435761 % 4294967296)::UINTEGER AS u32,
  CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 1000003 - 7000000000000)::BIGINT END AS i64_opt,
  hash(i) AS u64,
  (i * 1.5 - 100)::DOUBLE AS dbl,
  (i / 3.0)::FLOAT AS flt,
  CASE i % 11 WHEN 0 THEN 'NaN'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE
              WHEN 3 THEN NULL WHEN 4 THEN -0.0 ELSE -i * 0.25 END AS dbl_special,
  CASE i % 13 WHEN 0 THEN 'NaN'::FLOAT WHEN 1 THEN NULL ELSE (i * 0.1)::FLOAT END AS flt_opt,
  i % 2 = 0 AS flag,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i % 4 = 1 END AS flag_opt,
  'name_' || (i % 10) AS low_card,
  md5(i::VARCHAR) AS unique_str,
  CASE WHEN i % 4 = 0 THEN NULL ELSE 'é ' || i || ' "q" \\ ' || chr(10) || chr(9) || '日本' END AS str_opt,
  ['sad', 'ok', 'happy'][i % 3 + 1]::mood AS mood,
  from_hex(printf('%02x00ff%04x', i % 256, i % 65536)) AS blob,
  CASE WHEN i % 9 = 0 THEN NULL ELSE TIMESTAMP '2024-03-01 00:00:00' + to_microseconds(i * 1000003) END AS ts_us,
  (TIMESTAMP '2024-03-01 00:00:00' + to_milliseconds(i * 1001))::TIMESTAMP_MS AS ts_ms,
  (TIMESTAMP '2023-12-31 23:59:59' + to_microseconds(i * 77))::TIMESTAMP_NS AS ts_ns,
  (TIMESTAMPTZ '2020-02-29 12:00:00+00' + to_microseconds(i * 999999)) AS ts_tz,
  DATE '1969-12-25' + (i % 1000)::INTEGER AS d,
  CASE i % 6 WHEN 0 THEN NULL WHEN 1 THEN [] ELSE [i, NULL, i + 1, -i][1:(i % 5)] END AS int_list,
  ['a' || (i % 3), NULL, 'b' || i][1:(i % 4)] AS str_list,
  CASE WHEN i % 7 = 0 THEN NULL ELSE [[i], [], NULL, [i, i + 1, NULL]][1:(i % 5)] END AS list_of_lists,
  CASE WHEN i % 8 = 0 THEN NULL ELSE
    {'a': i, 'b': CASE WHEN i % 2 = 1 THEN NULL ELSE 'x' || i END,
     'c': CASE WHEN i % 3 = 1 THEN NULL ELSE {'d': [i, i * 2][1:(i % 3)], 'e': i % 2 = 0} END} END AS st,
  [{'k': i, 'v': 'v' || i}, NULL, {'k': NULL, 'v': NULL}][1:(i % 4)] AS list_of_structs,
  CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN MAP {} ELSE
    MAP {('k' || (i % 3)): i, ('z' || i): NULL} END AS str_map,
  CASE WHEN i % 4 = 0 THEN NULL ELSE MAP {i: [i, i], -i - 1: []} END AS int_map,
  NULL::INTEGER AS all_null,
  CASE WHEN i % 2 = 0 THEN NULL ELSE {'only': NULL::VARCHAR} END AS st_nullish
FROM range(${n}) t(i)`;

const codecs = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw'];
const files = [];

async function write(name, sql, opts) {
  const path = `${out}/${name}.parquet`;
  await c.run(`COPY (${sql}) TO '${path}' (FORMAT parquet${opts ? ', ' + opts : ''})`);
  files.push(name);
  if (!small) writeFileSync(`${out}/${name}.duckdb.jsonl`, (await rowsOf(c, path)).map(l => l + '\n').join(''));
  return path;
}

if (small) {
  const some = n => `SELECT id, u8, u64, dbl_special, flag_opt, low_card, str_opt, blob, ts_ms,
    int_list, list_of_lists, st, str_map FROM (${everything(n)})`;
  await write('tiny_v1_snappy', some(3), 'COMPRESSION snappy');
  await write('tiny_v2_zstd', some(4), 'COMPRESSION zstd, PARQUET_VERSION V2');
  await write('tiny_v1_gzip_flat', `SELECT i, 'x' || (i % 2) AS s, i % 2 = 0 AS b, i * 0.5 AS d FROM range(5) t(i)`, 'COMPRESSION gzip');
  await write('tiny_v2_lz4_lists', `SELECT [i, NULL][1:(i % 3)] AS l, MAP {'a': i} AS m, {'x': i} AS s FROM range(4) t(i)`, 'COMPRESSION lz4_raw, PARQUET_VERSION V2');
  await write('tiny_plain', `SELECT md5(i::VARCHAR) AS u, i::BIGINT AS id FROM range(6) t(i)`, 'COMPRESSION uncompressed');
  for (const f of files) {
    const sz = statSync(`${out}/${f}.parquet`).size;
    if (sz > 4096) console.error(`warning: ${f}.parquet is ${sz} bytes`);
  }
} else {
  for (const v of ['V1', 'V2'])
    for (const codec of codecs)
      await write(`all_${v.toLowerCase()}_${codec}`, everything(5000),
                  `COMPRESSION ${codec}, PARQUET_VERSION ${v}, ROW_GROUP_SIZE 2048`);
  // One big row group with many pages, and a long dictionary.
  await write('big_rowgroup_v1', everything(40000), 'COMPRESSION zstd, ROW_GROUP_SIZE 1000000');
  await write('big_rowgroup_v2', everything(40000), 'COMPRESSION snappy, PARQUET_VERSION V2, ROW_GROUP_SIZE 1000000');
  await write('empty', `${everything(10)} WHERE false`, 'COMPRESSION zstd');
  await write('all_nulls', `SELECT NULL::INTEGER a, NULL::VARCHAR b, NULL::INTEGER[] c,
    NULL::STRUCT(x INTEGER) d, NULL::MAP(VARCHAR, INTEGER) e FROM range(3000)`, 'COMPRESSION snappy');
  await write('required_cols', `SELECT * FROM (SELECT i::BIGINT AS id, 'v' || i AS s FROM range(3000) t(i))`,
              'COMPRESSION zstd, PARQUET_VERSION V2');
}
writeFileSync(`${out}/files.txt`, files.join('\n') + '\n');
console.log(`${files.length} files in ${out}`);
