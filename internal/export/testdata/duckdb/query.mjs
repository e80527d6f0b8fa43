// Runs each SQL statement given after the export folder with DuckDB and
// prints its rows as one JSON array per line ("$DIR" in a statement is
// the folder). Used by internal/export's tests to read an export back
// with a real engine.
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, ...queries] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
for (const q of queries) {
  const reader = await con.runAndReadAll(q.replaceAll('$DIR', dir));
  console.log(JSON.stringify(reader.getRowObjectsJson()));
}
