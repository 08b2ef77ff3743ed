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
