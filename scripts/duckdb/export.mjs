// export.mjs runs the README's example queries with DuckDB over a dataset
// written by `yoloarchive export --format parquet` and checks every answer
// against values computed here, from each run's results.csv text:
//
//   node export.mjs DATASET_DIR RUNS_DIR
//
// RUNS_DIR holds the run directories that were captured and exported
// (matched by directory name). Exits 1 on any difference.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { args, connect, Failures, sq } from './duck.mjs';

const [ds, runsDir] = args('node export.mjs DATASET_DIR RUNS_DIR');
const failures = new Failures();
const fail = (m) => failures.fail(m);

// Expected values, from the CSV text (YOLOv5 names included).
const expected = new Map();
for (const name of readdirSync(runsDir)) {
  const lines = readFileSync(join(runsDir, name, 'results.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',').map((h) => h.trim());
  const col = (...names) => header.findIndex((h) => names.includes(h));
  const map = col('metrics/mAP50-95(B)', 'metrics/mAP_0.5:0.95');
  const box = col('train/box_loss');
  const rows = lines.slice(1).map((l) => l.split(',').map((c) => c.trim()));
  const base = Number(rows[0][0]);
  let best = -Infinity;
  const loss = [];
  for (const r of rows) {
    best = Math.max(best, parseFloat(r[map]));
    loss.push([Number(r[0]) - base + 1, parseFloat(r[box])]);
  }
  expected.set(name, { best, loss });
}

const { rows } = await connect();
const t = (name) => `read_parquet(${sq(join(ds, `table=${name}`, '*', '*.parquet'))}, hive_partitioning = true)`;

// README query 1: the best mAP50-95 of every run (unified metric names:
// YOLOv5's metrics/mAP_0.5:0.95 is metrics/mAP50-95(B) too).
const best = await rows(`SELECT r.source_name AS run_name, max(s.value) AS best
  FROM ${t('scalars')} s JOIN ${t('run')} r USING (run_id)
  WHERE s.metric = 'metrics/mAP50-95(B)' GROUP BY r.source_name ORDER BY best DESC`);
if (best.length !== expected.size) fail(`best mAP50-95: ${best.length} runs, ${expected.size} run directories`);
for (const b of best) {
  const e = expected.get(b.run_name);
  if (!e) fail(`best mAP50-95: unknown run ${b.run_name}`);
  else if (b.best !== e.best) fail(`best mAP50-95 of ${b.run_name}: ${b.best}, results.csv says ${e.best}`);
}

// README query 2: the box-loss curve of every run, by 1-based epoch.
const curves = await rows(`SELECT r.source_name AS run_name, s.epoch, s.value
  FROM ${t('scalars')} s JOIN ${t('run')} r USING (run_id)
  WHERE s.metric = 'train/box_loss' ORDER BY r.source_name, s.epoch`);
const got = new Map();
for (const c of curves) {
  if (!got.has(c.run_name)) got.set(c.run_name, []);
  got.get(c.run_name).push([Number(c.epoch), c.value]);
}
let points = 0;
for (const [name, e] of expected) {
  const g = got.get(name) || [];
  if (JSON.stringify(g) !== JSON.stringify(e.loss)) fail(`box-loss curve of ${name} differs from results.csv`);
  points += e.loss.length;
}

failures.done(`ok export: ${best.length} runs' best mAP50-95 and ${points} box-loss points equal results.csv under DuckDB`, 10);
