// session.mjs reads the tables of an extracted yoloarchive archive captured
// from a ClearML offline session with DuckDB, an independent reader, and
// checks them against the session's own metrics.jsonl and log.jsonl, also
// read by DuckDB:
//
//   node session.mjs EXTRACTED_ARCHIVE_DIR SESSION_DIR
//
// Every training_stats_scalar event must be a scalars row (metric =
// variant, group = title, step = iter, same double, wall_time = timestamp)
// or, at iteration -2^31, a summary row; every log event a logs row with
// the same time, level, worker and text; debug images and plots images
// rows. Exits 1 on any mismatch.
import { join } from 'node:path';
import { args, connect, Failures, sq } from './duck.mjs';

const [dir, session] = args('node session.mjs EXTRACTED_ARCHIVE_DIR SESSION_DIR');
const { con, rows } = await connect();
const failures = new Failures();
const fail = (msg) => failures.fail(msg);
const events = (file) => `SELECT unnest(from_json(json, '["JSON"]')) AS e
  FROM read_json_objects(${sq(join(session, file))}, format = 'newline_delimited')`;
const table = (name) => `read_parquet(${sq(join(dir, 'tables', name + '.parquet'))})`;

await con.run(`CREATE TABLE ev AS SELECT e->>'type' AS type, e->>'metric' AS title, e->>'variant' AS variant,
  (e->>'iter')::BIGINT AS iter, (e->>'value')::DOUBLE AS value, (e->>'timestamp')::BIGINT AS ts FROM (${events('metrics.jsonl')})`);
const check = async (what, want, got, anti) => {
  const [{ w, g }] = await rows(`SELECT (${want})::BIGINT AS w, (${got})::BIGINT AS g`);
  if (w !== g) fail(`${what}: ${g} rows in the archive, ${w} in the session`);
  for (const m of await rows(anti + ' LIMIT 5')) fail(`${what}: no archive row for ${JSON.stringify(m, (k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  return w;
};
const scalars = await check('scalars',
  `SELECT count(*) FROM ev WHERE type = 'training_stats_scalar' AND iter <> -2147483648`,
  `SELECT count(*) FROM ${table('scalars')}`,
  `SELECT title, variant, iter FROM ev e WHERE type = 'training_stats_scalar' AND iter <> -2147483648
   AND NOT EXISTS (SELECT 1 FROM ${table('scalars')} s WHERE s.metric = e.variant AND s."group" = e.title
     AND s.step = e.iter AND s.value = e.value AND epoch_ms(s.wall_time) = e.ts)`);
const single = await check('summary',
  `SELECT count(*) FROM ev WHERE type = 'training_stats_scalar' AND iter = -2147483648`,
  `SELECT count(*) FROM ${table('summary')}`,
  `SELECT variant FROM ev e WHERE type = 'training_stats_scalar' AND iter = -2147483648
   AND NOT EXISTS (SELECT 1 FROM ${table('summary')} s WHERE s.key = e.variant AND s.value = e.value AND s.exact)`);
const images = await check('images',
  `SELECT count(*) FROM ev WHERE type IN ('training_debug_image', 'plot')`,
  `SELECT count(*) FROM ${table('images')}`,
  `SELECT type, title, variant, iter FROM ev e WHERE type IN ('training_debug_image', 'plot')
   AND NOT EXISTS (SELECT 1 FROM ${table('images')} i WHERE i."group" = e.title AND i.series = e.variant
     AND i.step = e.iter AND epoch_ms(i.wall_time) = e.ts AND length(i.blob) = 64)`);
await con.run(`CREATE TABLE lg AS SELECT (e->>'timestamp')::BIGINT AS ts, e->>'level' AS level, e->>'worker' AS worker,
  e->>'msg' AS msg FROM (${events('log.jsonl')})`);
const logs = await check('logs', `SELECT count(*) FROM lg`, `SELECT count(*) FROM ${table('logs')}`,
  `SELECT ts, level FROM lg e WHERE NOT EXISTS (SELECT 1 FROM ${table('logs')} l
   WHERE epoch_ms(l.time) = e.ts AND l.level = e.level AND l.worker = e.worker AND l.message = e.msg)`);

failures.done(`ok ${session}: ${scalars} scalars, ${single} single values, ${images} images, ${logs} log lines equal under DuckDB`);
