// check.mjs reads the Parquet tables of an extracted yoloarchive archive
// with DuckDB, an independent Parquet reader, and checks them against the
// run's results.csv, also read by DuckDB:
//
//   node check.mjs EXTRACTED_ARCHIVE_DIR RESULTS_CSV
//
// Every results.csv cell must be a row of the scalars table with the same
// metric, the same (1-based) epoch and the same double, bit for bit; the
// table row counts must match the manifest. Exits 1 on any mismatch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { args, connect, Failures, sq } from './duck.mjs';

const [dir, csv] = args('node check.mjs EXTRACTED_ARCHIVE_DIR RESULTS_CSV');
const { con, rows } = await connect();
const failures = new Failures();
const fail = (msg) => failures.fail(msg);

// Row counts of every table against the manifest.
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
for (const e of manifest.entries) {
  if (!e.path.startsWith('tables/')) continue;
  const [{ n }] = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sq(join(dir, e.path))})`);
  if (BigInt(n) !== BigInt(e.rows)) fail(`${e.path}: DuckDB reads ${n} rows, the manifest says ${e.rows}`);
}

// results.csv, parsed by DuckDB's CSV reader: row 0 holds the (possibly
// padded) names, the first column the epoch.
await con.run(`CREATE TABLE raw AS SELECT row_number() OVER () AS line, * FROM read_csv(${sq(csv)},
  header = false, all_varchar = true, delim = ',', quote = '', escape = '', null_padding = false)`);
// DuckDB names the columns column0, column00, … depending on their number.
const cols = (await rows(`DESCRIBE raw`)).map((r) => r.column_name).filter((c) => c !== 'line');
const id = (c) => '"' + c.replaceAll('"', '""') + '"';
const names = (await rows(`SELECT * EXCLUDE (line) FROM raw WHERE line = 1`))[0];
await con.run(`CREATE TABLE names AS SELECT * FROM (VALUES ${cols.slice(1)
  .map((c) => `(${sq(c)}, ${sq(names[c].trim())})`).join(', ')}) t(col, metric)`);
await con.run(`CREATE TABLE cells AS
  SELECT line, CAST(trim(${id(cols[0])}) AS DOUBLE) AS csv_epoch, col, CAST(trim(txt) AS DOUBLE) AS value
  FROM (UNPIVOT (SELECT * FROM raw WHERE line > 1) ON COLUMNS(* EXCLUDE (line, ${id(cols[0])})) INTO NAME col VALUE txt)`);
await con.run(`CREATE TABLE expected AS
  SELECT n.metric, (c.csv_epoch + 1 - (SELECT min(csv_epoch) FROM cells))::BIGINT AS epoch, c.value
  FROM cells c JOIN names n USING (col)`);
await con.run(`CREATE TABLE scalars AS SELECT * FROM read_parquet(${sq(join(dir, 'tables/scalars.parquet'))})`);

const [{ want, got }] = await rows(`SELECT (SELECT count(*) FROM expected)::BIGINT AS want,
  (SELECT count(*) FROM scalars)::BIGINT AS got`);
if (want !== got) fail(`scalars: ${got} rows, results.csv has ${want} cells`);
const missing = await rows(`SELECT e.metric, e.epoch, e.value FROM expected e
  ANTI JOIN scalars s ON s.metric = e.metric AND s.epoch = e.epoch LIMIT 5`);
for (const m of missing) fail(`scalars: no row for ${m.metric} at epoch ${m.epoch}`);
// Bit for bit: IEEE equality (DuckDB holds NaN equal to NaN) plus the sign
// bit, which equality ignores for zeros.
const diff = await rows(`SELECT e.metric, e.epoch, e.value::VARCHAR AS want, s.value::VARCHAR AS got
  FROM expected e JOIN scalars s ON s.metric = e.metric AND s.epoch = e.epoch
  WHERE e.value IS DISTINCT FROM s.value OR signbit(e.value) <> signbit(s.value) LIMIT 5`);
for (const d of diff) fail(`scalars: ${d.metric} at epoch ${d.epoch} is ${d.got}, results.csv has ${d.want}`);

// The run table has one row whose id is the header's.
const header = JSON.parse(readFileSync(join(dir, 'yoloarchive.json'), 'utf8'));
const run = await rows(`SELECT run_id, task, epochs_completed FROM read_parquet(${sq(join(dir, 'tables/run.parquet'))})`);
if (run.length !== 1 || run[0].run_id !== header.run_id) fail(`run table: ${JSON.stringify(run)} does not match header run_id ${header.run_id}`);
const [{ epochs }] = await rows(`SELECT count(DISTINCT epoch)::BIGINT AS epochs FROM expected`);
if (run.length === 1 && BigInt(run[0].epochs_completed) !== BigInt(epochs)) fail(`run table: epochs_completed ${run[0].epochs_completed}, results.csv has ${epochs}`);

failures.done(`ok ${csv}: ${got} scalars equal to results.csv under DuckDB; ${manifest.entries.filter(e => e.rows !== undefined).length} tables match the manifest`);
