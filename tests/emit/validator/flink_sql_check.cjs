// Checks Flink SQL files offline with dt-sql-parser's FlinkSQL parser (generated from Flink's grammar): syntax
// only, not types. dt-sql-parser's dist is ESM with directory imports, which Node 20 refuses to load as is, so
// run_emit.sh bundles this file with esbuild first.
//   node flink_sql_check.bundle.cjs FILE.sql...      exit 0 when every file parses, 1 otherwise
'use strict';
const fs = require('node:fs');
const { FlinkSQL } = require('dt-sql-parser');

const parser = new FlinkSQL();
let failures = 0;
for (const file of process.argv.slice(2)) {
  const errors = parser.validate(fs.readFileSync(file, 'utf8'));
  for (const error of errors) {
    console.log(`FAIL ${file}:${error.startLine}:${error.startColumn}: ${error.message}`);
  }
  if (errors.length) failures++;
}
console.log(`dt-sql-parser FlinkSQL: ${process.argv.length - 2 - failures} file(s) valid, ${failures} invalid`);
process.exit(failures ? 1 : 0);
