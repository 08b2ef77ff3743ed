// best.mjs checks the best values the HTML report shows against DuckDB's
// answers on the exported tables:
//
//   node best.mjs DATASET_DIR GOLDEN_JSON
//
// DATASET_DIR is written by `yoloarchive export --format parquet` from the
// report test's fixture archives; GOLDEN_JSON (convert/report/testdata/
// best.golden.json) holds each run's metrics as the report's browser test
// read them from the page: best value and epoch, final value and epoch.
// The best is the first epoch of the highest metrics/* value or of the
// lowest *_loss value (NaN never best); the final value is the last
// epoch's. Exits 1 on any difference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { args, connect, Failures, sq } from './duck.mjs';

const [ds, goldenPath] = args('node best.mjs DATASET_DIR GOLDEN_JSON');
const failures = new Failures();
const fail = (m) => failures.fail(m);
const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));

const { rows } = await connect();
const t = (name) => `read_parquet(${sq(join(ds, `table=${name}`, '*', '*.parquet'))}, hive_partitioning = true)`;
const got = await rows(`
  WITH s AS (
    SELECT run_id, metric, epoch, value,
      CASE WHEN starts_with(metric, 'metrics/') THEN 1 WHEN ends_with(metric, '_loss') THEN -1 ELSE 0 END AS goal
    FROM ${t('scalars')}),
  m AS (
    SELECT run_id, metric, any_value(goal) AS goal, max(epoch) AS final_epoch, arg_max(value, epoch) AS final,
      CASE any_value(goal)
        WHEN 1 THEN max(value) FILTER (WHERE NOT isnan(value))
        WHEN -1 THEN min(value) FILTER (WHERE NOT isnan(value)) END AS best
    FROM s GROUP BY run_id, metric)
  SELECT m.*, (SELECT min(epoch) FROM s WHERE s.run_id = m.run_id AND s.metric = m.metric AND s.value = m.best) AS best_epoch
  FROM m ORDER BY run_id, metric`);

const key = (r) => r.run_id + ' ' + r.metric;
const want = new Map(golden.map((g) => [key(g), g]));
if (got.length !== golden.length) fail(`DuckDB gives ${got.length} metrics of runs, the report shows ${golden.length}`);
for (const d of got) {
  const g = want.get(key(d));
  if (!g) { fail(`${key(d)}: not in the report`); continue; }
  const num = (s) => (s === 'NaN' ? NaN : Number(s));
  const same = (a, b) => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
  if (!same(d.final, num(g.final))) fail(`${key(d)}: final ${d.final}, the report shows ${g.final}`);
  if (String(d.final_epoch) !== g.final_epoch) fail(`${key(d)}: final epoch ${d.final_epoch}, the report shows ${g.final_epoch}`);
  if (d.best == null) {
    if (g.best !== undefined) fail(`${key(d)}: no best value, the report shows ${g.best}`);
  } else {
    if (!same(d.best, num(g.best))) fail(`${key(d)}: best ${d.best}, the report shows ${g.best}`);
    if (String(d.best_epoch) !== g.best_epoch) fail(`${key(d)}: best epoch ${d.best_epoch}, the report shows ${g.best_epoch}`);
  }
}
failures.done(`ok best.mjs: ${got.length} best and final values of ${new Set(got.map((r) => r.run_id)).size} runs equal the report's`);
