// duck.mjs holds what the DuckDB check scripts share: their two
// arguments, an in-memory DuckDB connection, SQL quoting and the list of
// failures that decides the exit code.
import { DuckDBInstance } from '@duckdb/node-api';

// args returns the script's two arguments, or exits 2 with its usage.
export function args(usage) {
  const a = process.argv.slice(2);
  if (a.length < 2 || !a[0] || !a[1]) {
    console.error('usage: ' + usage);
    process.exit(2);
  }
  return a;
}

// sq quotes a string for SQL.
export const sq = (s) => "'" + s.replaceAll("'", "''") + "'";

// connect opens an in-memory database; rows(sql) returns row objects.
export async function connect() {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  return { con, rows: async (sql) => (await con.runAndReadAll(sql)).getRowObjects() };
}

// Failures collects mismatches; done prints them and exits 1, or prints
// the success line.
export class Failures {
  constructor() { this.list = []; }
  fail(msg) { this.list.push(msg); }
  done(okLine, max = Infinity) {
    if (this.list.length) {
      for (const f of this.list.slice(0, max)) console.error('FAIL', f);
      process.exit(1);
    }
    console.log(okLine);
  }
}

// loadResults reads results.csv with DuckDB's CSV reader into the table
// `expected` (metric, 1-based epoch, value): row 1 holds the (possibly
// padded) names, the first column the epoch.
export async function loadResults(con, rows, csv) {
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
}
