// Validates every Kubernetes object in the given YAML files offline: built-in kinds against the Kubernetes API
// schemas (npm `kubernetes-models`), FlinkDeployments against the Flink Kubernetes Operator's CRD and admission rules
// (flink_deployment.mjs). Exit 0 when all are valid, 1 otherwise.
//   node validate.mjs FILE.yaml...
import fs from 'node:fs';
import { createRequire } from 'node:module';
import yaml from 'js-yaml';
import { validateFlinkDeployment } from './flink_deployment.mjs';

const require = createRequire(import.meta.url);
let failures = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const document of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
    if (!document) continue;
    if (document.kind === 'FlinkDeployment') {
      const errors = validateFlinkDeployment(document);
      for (const error of errors) console.log(`FAIL ${file}: FlinkDeployment ${document.metadata?.name}: ${error}`);
      if (errors.length) failures++;
      else checked++;
      continue;
    }
    const [group, version] = document.apiVersion.includes('/') ? document.apiVersion.split('/') : [null, document.apiVersion];
    const modulePath = group ? `kubernetes-models/${group}/${version}/${document.kind}` : `kubernetes-models/${version}/${document.kind}`;
    let Model;
    try {
      Model = require(modulePath)[document.kind];
    } catch (error) {
      console.log(`FAIL ${file}: no schema for ${document.apiVersion} ${document.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(document).validate();
      checked++;
    } catch (error) {
      console.log(`FAIL ${file}: ${document.kind} ${document.metadata?.name}: ${error.message}`);
      failures++;
    }
  }
}
console.log(`manifests: ${checked} object(s) valid, ${failures} invalid`);
process.exit(failures ? 1 : 0);
