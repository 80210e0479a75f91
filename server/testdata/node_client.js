// node_client.js drives a streamsql server with node-postgres (the "pg" package); the Go test
// server/node_test.go installs pg into a temporary directory and compares what this prints.
// Usage: node node_client.js <connection string>
const { Client, Query } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.argv[2] });
  await client.connect();
  // A Date parameter: node-postgres sends it as text in the client's local zone with its offset
  // (TZ=UTC here), e.g. 2024-03-04T10:11:12.345+00:00.
  const at = new Date(Date.UTC(2024, 2, 4, 10, 11, 12, 345));
  await client.query('INSERT INTO nt VALUES ($1, $2, $3)', [1, at, at]);
  await client.query('INSERT INTO nt VALUES ($1, $2, $3)', [2, new Date(Date.UTC(2024, 0, 1)), null]);
  let r = await client.query('SELECT k, CAST(d AS VARCHAR) AS d, CAST(ts AS VARCHAR) AS ts FROM nt WHERE ts = $1 OR k = $2 ORDER BY k', [at, 2]);
  for (const row of r.rows) console.log(`row ${row.k} ${row.d} ${row.ts}`);
  // An array parameter: node-postgres sends a JavaScript array as a text array literal.
  r = await client.query('SELECT k FROM nt WHERE k = ANY($1) ORDER BY k', [[2, 3]]);
  console.log('any ' + r.rows.map((x) => x.k).join(','));
  r = await client.query("SELECT k FROM nt WHERE CAST(k AS VARCHAR) <> ALL($1) ORDER BY k", [['2', "it's"]]);
  console.log('all ' + r.rows.map((x) => x.k).join(','));
  // SUBSCRIBE read row by row: each row is printed as it arrives; the Go test pushes the next
  // epoch only after it has seen the previous one's rows.
  const q = client.query(new Query('SUBSCRIBE TO agg'));
  let seen = 0;
  q.on('row', (row) => {
    console.log(`sub ${row.weight} ${row.k} ${row.n}`);
    seen++;
    if (seen === 3) {
      process.exit(0);
    }
  });
  q.on('error', (e) => {
    console.log('subscribe error ' + e.message);
    process.exit(1);
  });
}

main().catch((e) => {
  console.log('error ' + (e.code || '') + ' ' + e.message);
  process.exit(1);
});
