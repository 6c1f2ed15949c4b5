// node-postgres (`pg` from npm) against the Postgres port: a SCRAM login, a query with a parameter (the
// extended protocol) and the catalog's tables, as a Node.js service of the data team would use them.
//
// Usage: NODE_PATH=…/node_modules node pg_query.js PORT USER PASSWORD PERIOD
// Prints tab-separated lines: "user NAME" (current_user), "branches N" (the scorecard's rows of PERIOD),
// "table NAME" (each table and view of the schema public). On failure prints the driver's message to
// stderr and exits 1.
const { Client } = require('pg');

async function main() {
  const [port, user, password, period] = process.argv.slice(2);
  const client = new Client({
    host: '127.0.0.1',
    port: Number(port),
    user,
    password,
    database: 'leaderboard',
  });
  await client.connect();
  // Unaliased: the column is named current_user, as in PostgreSQL.
  const who = await client.query('SELECT current_user');
  console.log(`user\t${who.rows[0].current_user}`);
  const counted = await client.query(
    'SELECT count(*) AS n FROM scorecard WHERE period = $1',
    [period],
  );
  console.log(`branches\t${counted.rows[0].n}`);
  const tables = await client.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  for (const row of tables.rows) {
    console.log(`table\t${row.table_name}`);
  }
  await client.end();
}

main().catch((error) => {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
});
