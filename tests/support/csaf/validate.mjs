// Validates CSAF 2.0 documents with the BSI's csaf-validator-lib (the schema and every mandatory
// test): `node validate.mjs FILE.json…`. Prints one JSON line per file,
// {"file", "isValid", "failed": [{"name", "errors": [...]}], "warnings": n}, and exits 1 when
// any document is invalid.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The package lives outside the tree (see .ci/run); CSAF_NODE_MODULES names another node_modules.
const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.CSAF_NODE_MODULES || join(here, '../../../target/csaf-node/node_modules');
const lib = (file) => import(pathToFileURL(join(modules, '@secvisogram/csaf-validator-lib', file)));
const { default: validate } = await lib('validate.js');
const schemaTests = await lib('schemaTests.js');
const mandatoryTests = await lib('mandatoryTests.js');
const tests = [...Object.values(schemaTests), ...Object.values(mandatoryTests)];
if (tests.length < 30) {
  console.error(`validate: only ${tests.length} tests were loaded`);
  process.exit(2);
}

let failures = 0;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const result = await validate(tests, doc);
  const failed = result.tests
    .filter((t) => !t.isValid || t.errors.length)
    .map((t) => ({ name: t.name, errors: t.errors }));
  const warnings = result.tests.reduce((n, t) => n + t.warnings.length, 0);
  if (!result.isValid) failures++;
  console.log(JSON.stringify({ file, isValid: result.isValid, tests: result.tests.length, failed, warnings }));
}
process.exit(failures ? 1 : 0);
