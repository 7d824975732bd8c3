// duckq.mjs - run one SQL query with DuckDB and print the result as an
// aligned table (for the demo and for people), or with --json as a JSON
// array of rows (for tests: BIGINTs as strings, NULL as null), or with --row
// the first row's values separated by spaces (for a shell comparison).
// Test-only dependency.
// usage: node tests/tools/duckq.mjs [--json|--row] "SELECT ... FROM 'file.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';
const mode = ['--json', '--row'].includes(process.argv[2]) ? process.argv[2] : '';
const sql = process.argv[mode ? 3 : 2];
if (!sql) { console.error('usage: duckq.mjs [--json|--row] SQL'); process.exit(2); }
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const r = await c.runAndReadAll(sql);
if (mode === '--json') { console.log(JSON.stringify(r.getRowsJson())); process.exit(0); }
if (mode === '--row') { console.log((r.getRowsJson()[0] || []).join(' ')); process.exit(0); }
const cols = r.columnNames();
const rows = r.getRowsJson().map(row => row.map(v => v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)));
const w = cols.map((c, i) => Math.min(40, Math.max(c.length, ...rows.map(r => r[i].length))));
const fmt = r => r.map((v, i) => (v.length > w[i] ? v.slice(0, w[i] - 1) + '…' : v).padEnd(w[i])).join('  ');
console.log(fmt(cols));
console.log(w.map(n => '-'.repeat(n)).join('  '));
for (const row of rows) console.log(fmt(row));
