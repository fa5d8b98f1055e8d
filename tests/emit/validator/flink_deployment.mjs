// Validates a FlinkDeployment offline, as the Flink Kubernetes Operator would accept it:
//   1. against the openAPIV3Schema of the operator's CRD (tests/emit/flink_operator/, a copy of
//      helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml), where a field the schema does
//      not define is an error: the API server would drop it silently;
//   2. against the rules of the operator's admission validator (DefaultValidator) that a generated deployment can
//      break: the name, the Flink version, checkpoint and savepoint directories for the savepoint upgrade mode, the
//      parallelism, the jar URI, and memory sizes that Flink's memory model can lay out.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import yaml from 'js-yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const crdPath = path.join(here, '..', 'flink_operator', 'flinkdeployments.flink.apache.org-v1.yml');

// Kubernetes prunes fields that a structural schema does not define; for a generated manifest that is a silent
// loss, so every object schema without additionalProperties or x-kubernetes-preserve-unknown-fields gets
// additionalProperties: false.
function closeSchema(schema) {
  if (Array.isArray(schema)) return schema.map(closeSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'enum' || key === 'required' ? value : closeSchema(value);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

let validateSchema;
function schemaValidator() {
  if (validateSchema) return validateSchema;
  const crd = yaml.load(fs.readFileSync(crdPath, 'utf8'));
  const version = crd.spec.versions.find((v) => v.name === 'v1beta1');
  const schema = closeSchema(version.schema.openAPIV3Schema);
  // The CRD's top level defines spec and status; apiVersion, kind and metadata are the API server's.
  schema.properties.apiVersion = { type: 'string', enum: ['flink.apache.org/v1beta1'] };
  schema.properties.kind = { type: 'string', enum: ['FlinkDeployment'] };
  schema.properties.metadata = { type: 'object' };
  schema.required = ['apiVersion', 'kind', 'metadata', 'spec'];
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  validateSchema = ajv.compile(schema);
  return validateSchema;
}

const MiB = 1024 * 1024;
// Flink's MemorySize.parse units (binary) and Kubernetes quantities, as the operator's parseResourceMemoryString reads them.
function bytes(memory) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(memory));
  if (!match) return NaN;
  const units = {
    '': 1, b: 1, bytes: 1, k: 1024, kb: 1024, m: MiB, mb: MiB, g: 1024 * MiB, gb: 1024 * MiB, t: 1024 * 1024 * MiB,
    Ki: 1024, Mi: MiB, Gi: 1024 * MiB, Ti: 1024 * 1024 * MiB, K: 1000, M: 1e6, G: 1e9, T: 1e12,
  };
  const unit = units[match[2]] ?? units[match[2].toLowerCase()];
  return unit === undefined ? NaN : Number(match[1]) * unit;
}

const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

// Flink's TaskManager memory model with its defaults (taskmanager.memory.*): from the total process size, JVM
// metaspace and overhead, then framework heap and off-heap, network and managed memory; the task heap is what remains
// and must be positive (TaskExecutorProcessUtils refuses the configuration otherwise).
function taskManagerHeap(processBytes) {
  const metaspace = 256 * MiB;
  const overhead = clamp(0.1 * processBytes, 192 * MiB, 1024 * MiB);
  const flink = processBytes - metaspace - overhead;
  const network = clamp(0.1 * flink, 64 * MiB, 1024 * MiB);
  const managed = 0.4 * flink;
  return flink - 128 * MiB - 128 * MiB - network - managed;
}

// JobManager: metaspace 256m, overhead >= 192m, off-heap 128m; the JVM heap is the rest.
function jobManagerHeap(processBytes) {
  const overhead = clamp(0.1 * processBytes, 192 * MiB, 1024 * MiB);
  return processBytes - 256 * MiB - overhead - 128 * MiB;
}

export function validateFlinkDeployment(document) {
  const errors = [];
  const validate = schemaValidator();
  if (!validate(document)) {
    for (const error of validate.errors) errors.push(`${error.instancePath || '/'} ${error.message}${error.params?.additionalProperty ? ` (${error.params.additionalProperty})` : ''}`);
  }
  const name = document.metadata?.name ?? '';
  if (!/^[a-z]([-a-z\d]{0,43}[a-z\d])?$/.test(name)) errors.push(`name \`${name}\`: lower case alphanumerics or '-', at most 45 characters`);
  const spec = document.spec ?? {};
  const supported = ['v1_18', 'v1_19', 'v1_20', 'v2_0', 'v2_1'];
  if (!supported.includes(spec.flinkVersion)) errors.push(`flinkVersion ${spec.flinkVersion} is not Flink 1.18+`);
  const configuration = spec.flinkConfiguration ?? {};
  const job = spec.job;
  if (job) {
    if (job.upgradeMode !== 'stateless' && !String(configuration['state.checkpoints.dir'] ?? '').trim()) {
      errors.push('state.checkpoints.dir must be set for the last-state and savepoint upgrade modes');
    }
    if (job.upgradeMode === 'savepoint' && !String(configuration['state.savepoints.dir'] ?? '').trim()) {
      errors.push('state.savepoints.dir must be set for the savepoint upgrade mode');
    }
    if (!(job.parallelism >= 1)) errors.push('job.parallelism must be at least 1');
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(job.jarURI ?? '');
    if (!scheme || !['local', 'http', 'https', 's3', 'gs', 'abfs', 'file'].includes(scheme[1])) errors.push(`jarURI ${job.jarURI} has no allowed scheme`);
  }
  for (const [component, heap] of [['jobManager', jobManagerHeap], ['taskManager', taskManagerHeap]]) {
    const memory = spec[component]?.resource?.memory;
    if (memory === undefined) {
      errors.push(`${component}.resource.memory must be set`);
      continue;
    }
    const size = bytes(memory);
    if (Number.isNaN(size)) errors.push(`${component}.resource.memory \`${memory}\` is not a memory size`);
    else if (heap(size) <= 0) errors.push(`${component}.resource.memory ${memory} leaves no heap in Flink's memory model`);
  }
  const container = spec.podTemplate?.spec?.containers?.find((c) => c.name === 'flink-main-container');
  if (spec.podTemplate && !container) errors.push('podTemplate: the Flink container must be named flink-main-container');
  return errors;
}
