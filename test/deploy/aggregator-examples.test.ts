// The chart's Aggregator role with the scale-out sources and sinks of issue 15, through values only:
// each example of charts/sluice/examples/aggregator-*.yaml rendered by the real helm, its ports
// (container, Service, headless Service), RBAC, mounts and configuration checked, and the mounted
// configuration run through `sluice validate --no-environment` as the helm test Pod runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { agentContainer, chartDir, helmTemplate, only, repoRoot, tool, withoutHooks, workload, type KubeObject } from './kube.js';
import { resolveMountedArgs, testPod } from './mounted.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'src', 'cli.js');
const examplesDir = join(chartDir, 'examples');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-aggregator-examples-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const release = 'sluice-aggregator';
/** What the examples' envFrom Secrets would give the pods. */
const secretEnv = { KAFKA_PASSWORD: 'from-the-secret', NATS_PASSWORD: 'from-the-secret' };

interface Expected {
  /** Container ports = Service ports = headless Service ports, in order. */
  ports: Array<[string, number]>;
  /** The role's sources (ConfigMap) by id and type. */
  sources: Record<string, string>;
  /** The user's sinks (Secret) by id and type. */
  sinks: Record<string, string>;
  /** Objects beyond the role's always-present ones. */
  extraKinds: string[];
  /** Secret or volume names the pod must reference. */
  envFrom: string[];
  mounts: Record<string, string>;
}

const EXAMPLES: Record<string, Expected> = {
  'aggregator-otlp-to-kafka.yaml': {
    ports: [['api', 8686], ['otlp', 4318]],
    sources: { otlp: 'opentelemetry' },
    sinks: { kafka: 'kafka' },
    extraKinds: [],
    envFrom: ['kafka-sluice-user'],
    mounts: { 'kafka-ca': '/etc/sluice/kafka-ca' },
  },
  'aggregator-kafka-to-otlp.yaml': {
    ports: [['api', 8686]],
    sources: { kafka: 'kafka' },
    sinks: { otlp: 'opentelemetry' },
    extraKinds: ['HorizontalPodAutoscaler'],
    envFrom: ['kafka-sluice-user'],
    mounts: { 'kafka-ca': '/etc/sluice/kafka-ca' },
  },
  'aggregator-nats-to-otlp.yaml': {
    ports: [['api', 8686]],
    sources: { nats: 'nats' },
    sinks: { otlp: 'opentelemetry' },
    extraKinds: [],
    envFrom: ['nats-sluice-user'],
    mounts: {},
  },
  'aggregator-agents-otlp-to-nats.yaml': {
    ports: [['api', 8686], ['agents', 6000], ['otlp', 4318]],
    sources: { agents: 'sluice', otlp: 'opentelemetry' },
    sinks: { nats: 'nats' },
    extraKinds: [],
    envFrom: [],
    mounts: { 'nats-credentials': '/etc/sluice/nats' },
  },
};

async function sluice(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, ...secretEnv } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const configOf = (objects: KubeObject[], kind: 'ConfigMap' | 'Secret') => {
  const data = only(objects, kind)[kind === 'ConfigMap' ? 'data' : 'stringData'] as Record<string, string>;
  return YAML.parse(data['sluice.yaml']!) as { sources?: Record<string, { type: string }>; sinks?: Record<string, { type: string; inputs: string[] }> };
};
const typesOf = (components: Record<string, { type: string }> | undefined) => Object.fromEntries(Object.entries(components ?? {}).map(([id, c]) => [id, c.type]));
const portsOf = (service: KubeObject) => (service['spec'] as { ports: { name: string; port: number; targetPort: string }[] }).ports;

describe('chart Aggregator role: the examples for OTLP, Kafka and NATS', () => {
  it('every example file is covered here', () => {
    const files = readdirSync(examplesDir).filter((f) => f.startsWith('aggregator-')).sort();
    assert.deepEqual(files, Object.keys(EXAMPLES).sort());
  });

  for (const [file, expected] of Object.entries(EXAMPLES)) {
    const values = join(examplesDir, file);

    it(`${file}: helm lint --strict, and the objects, ports, RBAC, mounts and configuration it gives`, async () => {
      await tool('helm', ['lint', '--strict', chartDir, '--values', values]);
      const objects = await helmTemplate({ values: [values], release });
      const kinds = withoutHooks(objects).map((o) => o.kind).sort();
      assert.deepEqual(kinds, ['ConfigMap', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'ServiceAccount', 'StatefulSet', ...expected.extraKinds].sort());
      // None of these sources or sinks calls the Kubernetes API: no RBAC, no token in the pods.
      assert.equal(objects.some((o) => /Role/.test(o.kind)), false, 'no Role, ClusterRole or binding');
      const statefulSet = workload(objects);
      assert.equal(statefulSet.spec.template.spec['automountServiceAccountToken'], false);

      const container = agentContainer(statefulSet);
      assert.deepEqual(container.ports?.map((p) => [p.name, p.containerPort]), expected.ports, 'container ports');
      for (const name of [release, `${release}-headless`]) {
        const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === name)!;
        assert.deepEqual(portsOf(service).map((p) => [p.name, p.port]), expected.ports, `${name} ports`);
        assert.ok(portsOf(service).every((p) => p.targetPort === p.name), `${name} targets the named container ports`);
      }

      const common = configOf(objects, 'ConfigMap');
      const custom = configOf(objects, 'Secret');
      assert.deepEqual(typesOf(common.sources), expected.sources, 'the role\'s sources (agents: null removes the default one)');
      assert.deepEqual(typesOf(custom.sinks), expected.sinks);
      const sourceIds = Object.keys(expected.sources);
      for (const sink of Object.values(custom.sinks ?? {})) assert.ok(sink.inputs.every((id) => sourceIds.includes(id)), `sink inputs ${sink.inputs} name the role's sources`);

      assert.deepEqual(((container as { envFrom?: { secretRef: { name: string } }[] }).envFrom ?? []).map((e) => e.secretRef.name), expected.envFrom);
      const volumes = statefulSet.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[];
      for (const [volume, path] of Object.entries(expected.mounts)) {
        assert.equal(container.volumeMounts?.find((m) => m.name === volume)?.mountPath, path, `${volume} mounted at ${path}`);
        assert.ok(volumes.find((v) => v.name === volume)?.secret, `${volume} is a Secret volume`);
      }
    });

    it(`${file}: the helm test Pod's sluice validate --no-environment passes on the mounted configuration`, async () => {
      const objects = await helmTemplate({ values: [values], release });
      const { pod, container } = testPod(objects);
      assert.deepEqual(container.args?.slice(0, 2), ['validate', '--no-environment']);
      const result = await sluice(resolveMountedArgs(scratch, pod, container, objects));
      assert.equal(result.code, 0, result.output);
    });
  }

  it('the check can fail: an example with a broken sink is refused, naming the key', async () => {
    const broken = YAML.parse(readFileSync(join(examplesDir, 'aggregator-otlp-to-kafka.yaml'), 'utf8')) as { customConfig: { config: { sinks: { kafka: Record<string, unknown> } } } };
    delete broken.customConfig.config.sinks.kafka['topic'];
    const file = join(scratch, 'broken-values.yaml');
    writeFileSync(file, YAML.stringify(broken));
    const objects = await helmTemplate({ values: [file], release });
    const { pod, container } = testPod(objects);
    const result = await sluice(resolveMountedArgs(scratch, pod, container, objects));
    assert.equal(result.code, 78, result.output);
    assert.match(result.output, /sinks\.kafka\.topic/);
  });

  it('NOTES name the receiving ports, or the pull sources sharing the work', async () => {
    const notes = async (file: string) => tool('helm', ['install', '--dry-run=client', '--namespace', 'logging', release, chartDir, '--values', join(examplesDir, file)]);
    assert.match(await notes('aggregator-agents-otlp-to-nats.yaml'), /Senders use the Service sluice-aggregator\.logging\.svc .*ports: agents 6000, otlp 4318\./);
    const kafka = await notes('aggregator-kafka-to-otlp.yaml');
    assert.match(kafka, /Source kafka reads kafka \(consumer group sluice-aggregators\)/);
    assert.doesNotMatch(kafka, /Senders use/, 'no receiving port, no address to send to');
    assert.match(await notes('aggregator-nats-to-otlp.yaml'), /Source nats reads nats \(durable consumer sluice-aggregators\)/);
  });
});
