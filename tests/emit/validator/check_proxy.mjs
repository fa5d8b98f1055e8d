// Checks what `pipec compile --proxy` must hold beyond the API schemas (validate.mjs checks those):
//   node check_proxy.mjs proxy/kubernetes.yaml MIN_REPLICAS MAX_REPLICAS SECRET
// Prints `ok`/`FAIL` lines; exit 1 when something is missing.
import fs from 'node:fs';
import yaml from 'js-yaml';

const [file, minReplicas, maxReplicas, secret] = process.argv.slice(2);
const documents = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(Boolean);
const byKind = Object.fromEntries(documents.map((document) => [document.kind, document]));
let failures = 0;
const check = (ok, text) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} proxy manifest: ${text}`);
  if (!ok) failures++;
};

check(['ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'].every((kind) => byKind[kind]),
      `ConfigMap, Deployment, Service, PodDisruptionBudget and HorizontalPodAutoscaler (got ${documents.map((d) => d.kind).join(', ')})`);
check(!documents.some((document) => document.kind === 'Secret'), 'no Secret object: key values are never emitted');
const configMap = byKind.ConfigMap ?? {};
check(Object.keys(configMap.data ?? {}).length === 0 && Object.keys(configMap.binaryData ?? {}).every((key) => key.endsWith('.pb')),
      'the ConfigMap holds only the compiled plans');
const deployment = byKind.Deployment ?? {};
const pod = deployment.spec?.template?.spec ?? {};
const container = pod.containers?.[0] ?? {};
check(container.readinessProbe?.httpGet?.path === '/readyz' && container.readinessProbe?.httpGet?.port === 'http',
      'readiness probe on /readyz');
check(container.livenessProbe?.httpGet?.path === '/healthz' && container.livenessProbe?.httpGet?.port === 'http',
      'liveness probe on /healthz');
const keys = (container.env ?? []).find((variable) => variable.name === 'PIPEC_PROXY_API_KEYS');
check(keys?.valueFrom?.secretKeyRef?.name === secret && keys?.valueFrom?.secretKeyRef?.key === 'api-keys.yaml' && keys.value === undefined,
      `API keys from the Secret \`${secret}\` (secretKeyRef), no value inline`);
check(!(container.env ?? []).some((variable) => variable.valueFrom?.configMapKeyRef), 'no environment variable from a ConfigMap');
check(Boolean(container.resources?.requests?.cpu && container.resources?.requests?.memory), 'CPU and memory requests');
check(deployment.spec?.replicas === Number(minReplicas), `replicas = the autoscaler's floor (${minReplicas})`);
const command = container.command ?? [];
check(command[0] === 'pipec' && command[1] === 'proxy' && command.includes('--plan') && command.includes('--listen'),
      'the container runs pipec proxy --plan … --listen …');
const mountPath = container.volumeMounts?.[0]?.mountPath;
check(command.filter((part, index) => command[index - 1] === '--plan').every((path) => path.startsWith(`${mountPath}/`)
      && Object.keys(configMap.binaryData ?? {}).includes(path.slice(mountPath.length + 1))),
      'every --plan file is a key of the mounted ConfigMap');
const selector = deployment.spec?.selector?.matchLabels ?? {};
const labels = deployment.spec?.template?.metadata?.labels ?? {};
const selects = (matchLabels) => Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value);
check(selects(selector) && selects(byKind.Service?.spec?.selector) && selects(byKind.PodDisruptionBudget?.spec?.selector?.matchLabels),
      'the Deployment, Service and PodDisruptionBudget select the proxy pods');
check(byKind.Service?.spec?.ports?.[0]?.targetPort === 'http' && container.ports?.[0]?.name === 'http', 'the Service reaches the pods\' http port');
const autoscaler = byKind.HorizontalPodAutoscaler?.spec ?? {};
check(autoscaler.scaleTargetRef?.kind === 'Deployment' && autoscaler.scaleTargetRef?.name === deployment.metadata?.name
      && autoscaler.minReplicas === Number(minReplicas) && autoscaler.maxReplicas === Number(maxReplicas)
      && autoscaler.metrics?.[0]?.resource?.name === 'cpu',
      `the autoscaler scales the Deployment on CPU, ${minReplicas}..${maxReplicas} pods`);
check(Boolean(deployment.spec?.template?.metadata?.annotations?.['pipec.dev/digest']), 'the pod template carries the digest (a plan change rolls the pods)');
process.exit(failures ? 1 : 0);
