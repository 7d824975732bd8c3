// lake_check.mjs - what DuckDB sees in a sluice lake, for the run tests.
// usage: node lake_check.mjs LAKE STREAM... [--once N]
// For each stream: rows per partition directory (dt=.../hour=...), the
// number of distinct (_partition, _offset) pairs (exactly-once check), and
// the rows whose event_time_ms falls outside their directory's hour. Prints
// JSON {stream: {"rows", "distinct", "misplaced", "partitions": {...}}}.
// Hidden in-progress files (".sluice+...") are not matched by *.parquet.
// --once N: instead, check that every stream holds exactly N rows, N distinct
// positions and no misplaced row (exactly once), exit 1 saying what differs.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
const args = process.argv.slice(2);
const oi = args.indexOf('--once');
const once = oi >= 0 ? Number(args.splice(oi, 2)[1]) : null;
const [lake, ...streams] = args;
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const out = {};
for (const s of streams) {
  const dir = `${lake}/${s}`;
  if (!fs.existsSync(dir)) { out[s] = { rows: 0, distinct: 0, misplaced: 0, partitions: {} }; continue; }
  const src = `read_parquet('${dir}/**/*.parquet', filename=true)`;
  const q = async sql => (await c.runAndReadAll(sql)).getRowsJson();
  const parts = await q(`SELECT regexp_extract(filename, 'dt=[^/]+/hour=[0-9]+') AS p, count(*)::BIGINT AS n FROM ${src} GROUP BY 1 ORDER BY 1`);
  const tot = await q(`SELECT count(*)::BIGINT, count(DISTINCT (_partition, _offset))::BIGINT FROM ${src}`);
  const bad = await q(`SELECT count(*)::BIGINT FROM ${src} WHERE strftime(make_timestamp(event_time_ms::BIGINT * 1000), 'dt=%Y-%m-%d/hour=%H') <> regexp_extract(filename, 'dt=[^/]+/hour=[0-9]+')`);
  const p = {};
  for (const [k, n] of parts) p[k] = Number(n);
  out[s] = { rows: Number(tot[0][0]), distinct: Number(tot[0][1]), misplaced: Number(bad[0][0]), partitions: p };
}
if (once === null) console.log(JSON.stringify(out));
else {
  for (const [s, g] of Object.entries(out)) {
    if (g.rows !== once || g.distinct !== once || g.misplaced) {
      console.error(`FAIL: ${s}: ${g.rows} rows, ${g.distinct} distinct positions, ${g.misplaced} misplaced; expected ${once} exactly once`);
      process.exit(1);
    }
    console.log(`ok: ${s}: ${once} records exactly once`);
  }
}
