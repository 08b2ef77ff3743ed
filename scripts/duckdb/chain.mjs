// chain.mjs checks a delta chain written by `capture --follow` without
// yoloarchive code: the links, extracted with tar into LINKS_DIR/000,
// LINKS_DIR/001, …, are checked against FORMAT.md §8 (each link's header
// names its number, the sha256 of the previous link's manifest.json, and
// only the last is final), then DuckDB reads every link's scalars table,
// merges them as §8 says (per key, the row of the latest link wins), and
// the result must equal the finished run's results.csv, bit for bit:
//
//   node chain.mjs LINKS_DIR RESULTS_CSV
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { args, connect, Failures, loadResults, sq } from './duck.mjs';

const [dir, csv] = args('node chain.mjs LINKS_DIR RESULTS_CSV');
const { con, rows } = await connect();
const failures = new Failures();
const fail = (msg) => failures.fail(msg);

const links = readdirSync(dir).filter((d) => /^[0-9]{3,}$/.test(d)).sort();
if (links.length < 2) fail(`${dir}: ${links.length} links, want a chain`);
let prev = '';
links.forEach((l, i) => {
  const h = JSON.parse(readFileSync(join(dir, l, 'yoloarchive.json'), 'utf8'));
  const c = h.chain || {};
  if (c.seq !== i) fail(`link ${l}: seq ${c.seq}, want ${i}`);
  if ((c.prev || '') !== prev) fail(`link ${l}: prev ${c.prev}, the digest of link ${i - 1} is ${prev}`);
  if (c.final !== (i === links.length - 1)) fail(`link ${l}: final ${c.final}`);
  prev = createHash('sha256').update(readFileSync(join(dir, l, 'manifest.json'))).digest('hex');
});

// Every link's scalars, with its number; merged per key, the latest wins.
const parts = links.filter((l) => existsSync(join(dir, l, 'tables/scalars.parquet')))
  .map((l) => `SELECT ${Number(l)} AS link, * FROM read_parquet(${sq(join(dir, l, 'tables/scalars.parquet'))})`);
await con.run(`CREATE TABLE merged AS SELECT * FROM (${parts.join(' UNION ALL BY NAME ')})
  QUALIFY row_number() OVER (PARTITION BY metric, "group", epoch, step, origin ORDER BY link DESC) = 1`);

// The finished run's results.csv, as check.mjs reads it.
await loadResults(con, rows, csv);

const [{ want, got }] = await rows(`SELECT (SELECT count(*) FROM expected)::BIGINT AS want,
  (SELECT count(*) FROM merged)::BIGINT AS got`);
if (want !== got) fail(`merged scalars: ${got} rows, results.csv has ${want} cells`);
const diff = await rows(`SELECT e.metric, e.epoch, e.value::VARCHAR AS want, m.value::VARCHAR AS got
  FROM expected e LEFT JOIN merged m ON m.metric = e.metric AND m.epoch = e.epoch
  WHERE m.value IS NULL OR e.value IS DISTINCT FROM m.value OR signbit(e.value) <> signbit(m.value) LIMIT 5`);
for (const d of diff) fail(`merged scalars: ${d.metric} at epoch ${d.epoch} is ${d.got}, results.csv has ${d.want}`);
const [{ spread }] = await rows(`SELECT count(DISTINCT link)::BIGINT AS spread FROM merged`);
failures.done(`ok ${dir}: ${links.length} links, their digests chained; ${got} merged scalars from ${spread} links equal results.csv under DuckDB`);
