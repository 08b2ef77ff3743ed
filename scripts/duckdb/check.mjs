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
import { args, connect, Failures, loadResults, sq } from './duck.mjs';

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

// results.csv, read by DuckDB's CSV reader (duck.mjs).
await loadResults(con, rows, csv);
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
