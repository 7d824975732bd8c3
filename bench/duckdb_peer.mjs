// duckdb_peer.mjs - the peer figures of `make bench`: DuckDB writing the same
// events to Parquet, timed inside the process (DuckDB start-up, Node start-up
// and the final read-back check are outside the timed interval).
//
//   node bench/duckdb_peer.mjs convert IN.jsonl OUT.parquet [THREADS] [CODEC]
//       COPY (SELECT * FROM read_json(IN, newline_delimited)) TO OUT: JSON
//       lines -> Parquet, the whole job (the logic of shared/bench's
//       duckdb_convert.mjs). One timed run per process.
//   node bench/duckdb_peer.mjs encode IN.jsonl OUT.parquet [THREADS] [RUNS] [CODEC]
//       load IN into an in-memory table first (not timed), then time only
//       COPY tbl TO OUT, RUNS times: DuckDB's Parquet encoder alone.
//   node bench/duckdb_peer.mjs count FILE.parquet
//       print the row count DuckDB reads from FILE (checks sluice's output).
//
// CODEC is a DuckDB COMPRESSION name (zstd, uncompressed, ...; default zstd);
// for encode it may be a comma-separated list, each timed RUNS times, with
// "%c" in OUT replaced by the codec name.
// Prints one JSON object per timed run on stdout:
//   {"mode":"convert","run":1,"rows":N,"secs":S,"rows_per_s":R,"bytes":B}
// and the file's schema on stderr. @duckdb/node-api is a test-only
// dependency installed in tests/tools/node_modules (scripts/deps.sh); it is
// resolved from there, so the script runs from any working directory.
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

const require = createRequire(new URL('../tests/tools/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const [, , mode, srcArg, dstArg, threadsArg, ...rest] = process.argv;
const usage = () => {
  console.error('usage: duckdb_peer.mjs convert IN.jsonl OUT.parquet [THREADS] [CODEC]\n' +
                '       duckdb_peer.mjs encode IN.jsonl OUT.parquet [THREADS] [RUNS] [CODEC[,CODEC]]\n' +
                '       duckdb_peer.mjs count FILE.parquet');
  process.exit(2);
};
if (!['convert', 'encode', 'count'].includes(mode) || !srcArg || (mode !== 'count' && !dstArg)) usage();
const threads = Number(threadsArg || 1);
const runs = mode === 'encode' ? Number(rest[0] || 3) : 1;
const codecs = ((mode === 'encode' ? rest[1] : rest[0]) || 'zstd').split(',');
if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(runs) || runs < 1 ||
    !codecs.every(x => /^[a-z0-9_]+$/.test(x))) {
  console.error('duckdb_peer: THREADS and RUNS must be positive integers, CODEC DuckDB codec names');
  process.exit(2);
}
const q = s => `'${s.replaceAll("'", "''")}'`;

const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
await c.run(`SET threads=${threads}`);

async function rowsOf(file) {
  const r = await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(file)})`);
  return Number(r.getRows()[0][0]);
}

if (mode === 'count') {
  console.log(await rowsOf(resolve(srcArg)));
  process.exit(0);
}

const src = q(resolve(srcArg));
const readJson = `read_json(${src}, format='newline_delimited')`;
const outOf = codec => resolve(dstArg.replaceAll('%c', codec));

async function timed(run, codec, sql) {
  const t0 = performance.now();
  await c.run(sql);
  const secs = (performance.now() - t0) / 1000;
  const rows = await rowsOf(outOf(codec));
  console.log(JSON.stringify({ mode, codec, threads, run, rows, secs: Number(secs.toFixed(4)),
                               rows_per_s: Math.round(rows / secs),
                               bytes: statSync(outOf(codec)).size }));
}

if (mode === 'convert') {
  await timed(1, codecs[0], `COPY (SELECT * FROM ${readJson}) TO ${q(outOf(codecs[0]))} ` +
                            `(FORMAT parquet, COMPRESSION ${codecs[0]})`);
} else {
  const t0 = performance.now();
  await c.run(`CREATE TABLE tbl AS SELECT * FROM ${readJson}`);
  console.error(`duckdb_peer: loaded ${src} into memory in ` +
                `${((performance.now() - t0) / 1000).toFixed(2)} s (not timed)`);
  for (const codec of codecs)
    for (let run = 1; run <= runs; run++)
      await timed(run, codec, `COPY tbl TO ${q(outOf(codec))} (FORMAT parquet, COMPRESSION ${codec})`);
}
const s = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(outOf(codecs[0]))})`);
console.error('duckdb_peer: schema: ' + s.getRows().map(x => x[0] + ':' + x[1]).join(', '));
