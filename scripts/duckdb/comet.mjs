// comet.mjs reads the tables of an extracted yoloarchive archive captured
// from a Comet offline experiment with DuckDB, an independent reader, and
// checks them against the experiment's own messages.json, also read by
// DuckDB:
//
//   node comet.mjs EXTRACTED_ARCHIVE_DIR EXPERIMENT_DIR
//
// Every metric_msg must be a scalars row (metric, step, session_epoch as
// logged: 0 and null apart, group = context, wall_time = local_timestamp,
// the same double); the last parameter_msg of each name an args params row
// with the value's JSON type, each list item's JSON type in item_types,
// and wall_time = its local_timestamp. Exits 1 on any mismatch.
import { join } from 'node:path';
import { args, connect, Failures, sq } from './duck.mjs';

const [dir, session] = args('node comet.mjs EXTRACTED_ARCHIVE_DIR EXPERIMENT_DIR');
const { con, rows } = await connect();
const failures = new Failures();
const fail = (msg) => failures.fail(msg);
const table = (name) => `read_parquet(${sq(join(dir, 'tables', name + '.parquet'))})`;
const show = (m) => JSON.stringify(m, (k, v) => (typeof v === 'bigint' ? v.toString() : v));

await con.run(`CREATE TABLE msg AS SELECT row_number() OVER () AS line, json->>'type' AS type, json->'payload' AS p
  FROM read_json_objects(${sq(join(session, 'messages.json'))}, format = 'newline_delimited')`);

// DuckDB's JSON type names, as the archive names them.
const jtype = (v) => `CASE json_type(${v}) WHEN 'NULL' THEN 'null' WHEN 'BOOLEAN' THEN 'bool'
  WHEN 'BIGINT' THEN 'int' WHEN 'UBIGINT' THEN 'int' WHEN 'DOUBLE' THEN 'float' WHEN 'VARCHAR' THEN 'str'
  WHEN 'ARRAY' THEN 'list' ELSE json_type(${v}) END`;

await con.run(`CREATE TABLE metric AS SELECT line, p->'metric'->>'metricName' AS name,
  (p->'metric'->>'step')::BIGINT AS step, (p->'metric'->>'epoch')::BIGINT AS epoch,
  coalesce(p->>'context', '') AS context, (p->>'local_timestamp')::BIGINT AS ts,
  (p->'metric'->>'metricValue')::DOUBLE AS value FROM msg WHERE type = 'metric_msg'`);
const [{ w, g }] = await rows(`SELECT (SELECT count(*) FROM metric)::BIGINT AS w, (SELECT count(*) FROM ${table('scalars')})::BIGINT AS g`);
if (w !== g) fail(`scalars: ${g} rows in the archive, ${w} metric messages`);
for (const m of await rows(`SELECT line, name, step, epoch FROM metric e WHERE NOT EXISTS (SELECT 1 FROM ${table('scalars')} s
    WHERE s.metric = e.name AND s.step IS NOT DISTINCT FROM e.step AND s.session_epoch IS NOT DISTINCT FROM e.epoch
    AND s."group" = e.context AND epoch_ms(s.wall_time) = e.ts AND s.value = e.value) LIMIT 5`)) {
  fail(`scalars: no archive row for ${show(m)}`);
}

await con.run(`CREATE TABLE param AS SELECT * FROM (
  SELECT line, coalesce(p->'param', p->'params') AS prm, (p->>'local_timestamp')::BIGINT AS ts FROM msg WHERE type = 'parameter_msg')
  QUALIFY row_number() OVER (PARTITION BY prm->>'paramName' ORDER BY line DESC) = 1`);
await con.run(`CREATE TABLE want AS SELECT prm->>'paramName' AS key, ${jtype("prm->'paramValue'")} AS type, ts,
  CASE WHEN json_type(prm->'paramValue') = 'ARRAY'
    THEN list_transform(range(json_array_length(prm->'paramValue')::BIGINT), i -> ${jtype("prm->'paramValue'->(i::INTEGER)")})
  END AS item_types FROM param`);
const [{ n }] = await rows(`SELECT count(*)::BIGINT AS n FROM want`);
for (const m of await rows(`SELECT e.key, e.type, e.item_types, a.type AS got, a.item_types AS got_items
    FROM want e LEFT JOIN (SELECT * FROM ${table('params')} WHERE section = 'args') a USING (key)
    WHERE a.key IS NULL OR a.type <> e.type OR epoch_ms(a.wall_time) <> e.ts
      OR (e.type = 'list' AND a.item_types IS DISTINCT FROM e.item_types) LIMIT 5`)) {
  fail(`params: ${show(m)}`);
}
failures.done(`ok ${session}: ${w} metric points (epochs as logged) and ${n} parameters (JSON types, list items too) equal under DuckDB`);
