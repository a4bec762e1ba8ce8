// W2 a node: 100 containers under a log tree, a writer (its own process) appending at full speed
// with kubelet-style rotation at 10 MiB (rotated files gzipped except the newest, never deleted),
// pod metadata from the fake API server, kubernetes_logs -> http sink (NDJSON) into a local
// receiver that checks every line arrives exactly once and enriched.
// Baseline in the same invocation: the writer alone (its own lines/s and CPU).
// Env: W2_CONTAINERS (100), W2_LINES_PER_CONTAINER (60000: ~12.5 MB per container, so every container rotates once at 10 MiB), W2_ROTATE_BYTES (10 MiB),
// W2_TIMEOUT_SECS (600), W2_BATCH_EVENTS (http sink batch.max_events, 1000), W2_KEEP=1 keeps the log tree, BENCH_NODE_ARGS / BENCH_CPU_PROF as in W1.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeApiServer } from '../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../test/k8s/fixtures.js';
import { writeKubeconfig } from '../test/k8s/kubeconfig.js';
import { benchPort, CLI, sinkSentEvents } from './lib/agent.js';
import { CountingReceiver } from './lib/counting-receiver.js';
import { TABLE_HEADER, ensureGnuTime, formatRow, startMeasured, type Row } from './lib/measure.js';
import { WRITER_SCRIPT, type WriterOptions, type WriterResult } from './lib/node-writer.js';
import { agentLaunch, benchNodeArgs } from './lib/product-node.js';
import { workDir } from './lib/workspace.js';

const NAMESPACES = ['shop', 'payments', 'search', 'identity', 'platform'];
const AGENT_PORT = benchPort(18687);

export interface W2Details {
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  unenriched: number;
  malformed: number;
  wrongPod: number;
  sampled: number;
  rotations: number;
  gzipped: number;
  requests: number;
  wireMB: number;
  /** Seconds from the writer's last line until the receiver had every line (or gave up). */
  drainSeconds: number;
  /** CPU seconds of this process (receiver, fake API server) over the run: if near the wall time, the receiver limits the figure. */
  receiverCpuSeconds: number;
  timedOut: boolean;
  agentExitCode: number | null;
  missing: Array<{ container: number; count: number; first: number[] }>;
}

interface PodSpec {
  ns: string;
  name: string;
  uid: string;
  dir: string;
}

function podSpecs(root: string, containers: number): PodSpec[] {
  return Array.from({ length: containers }, (_, i) => {
    const ns = NAMESPACES[i % NAMESPACES.length]!;
    const name = `web-${i}-7d9f8b6c4-${(i * 7919).toString(36).padStart(5, 'x').slice(-5)}`;
    const uid = `5f1c0a2e-8b3d-4c6f-9a1e-${String(i).padStart(12, '0')}`;
    return { ns, name, uid, dir: join(root, `${ns}_${name}_${uid}`, 'app') };
  });
}

/** Labels and annotations like a Deployment's pod, so enrichment has real work. */
function apiPod(spec: PodSpec, i: number) {
  return pod({
    name: spec.name,
    namespace: spec.ns,
    uid: spec.uid,
    node: 'node-a',
    containers: ['app'],
    ip: `10.42.${i >> 8}.${i & 255}`,
    owner: { kind: 'ReplicaSet', name: spec.name.slice(0, spec.name.lastIndexOf('-')) },
    labels: {
      app: `web-${i}`,
      'app.kubernetes.io/name': `web-${i}`,
      'app.kubernetes.io/instance': spec.name,
      'app.kubernetes.io/version': '1.4.2',
      'app.kubernetes.io/component': 'frontend',
      'app.kubernetes.io/part-of': spec.ns,
      'pod-template-hash': '7d9f8b6c4',
      tier: 'web',
    },
    annotations: {
      'kubectl.kubernetes.io/restartedAt': '2026-11-20T08:15:00Z',
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9090',
      'checksum/config': 'ab'.repeat(32),
      'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
    },
  });
}

export async function runW2Detailed(options: { containers?: number; linesPerContainer?: number; rotateBytes?: number; timeoutSecs?: number } = {}): Promise<{ rows: Row[]; details: W2Details }> {
  const containers = options.containers ?? Number(process.env.W2_CONTAINERS ?? 100);
  const linesPerContainer = options.linesPerContainer ?? Number(process.env.W2_LINES_PER_CONTAINER ?? 60_000);
  const rotateBytes = options.rotateBytes ?? Number(process.env.W2_ROTATE_BYTES ?? 10 * 1024 * 1024);
  const timeoutSecs = options.timeoutSecs ?? Number(process.env.W2_TIMEOUT_SECS ?? 600);
  ensureGnuTime();
  if ((await fetch(`http://127.0.0.1:${AGENT_PORT}/health`).catch(() => undefined)) !== undefined)
    throw new Error(`port ${AGENT_PORT} already answers: a sluice from an earlier run is still running`);

  const dir = workDir('w2');
  const root = join(dir, 'pods');
  const dataDir = join(dir, 'data');
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  const specs = podSpecs(root, containers);
  for (const spec of specs) mkdirSync(spec.dir, { recursive: true });

  const api = await FakeApiServer.start();
  const receiver = await CountingReceiver.start(containers, linesPerContainer, (i) => specs[i]!.name);
  try {
    api.upsert('nodes', node('node-a', { 'topology.kubernetes.io/zone': 'zone-a' }));
    for (const ns of NAMESPACES) api.upsert('namespaces', namespace(ns, { team: ns }));
    specs.forEach((spec, i) => api.upsert('pods', apiPod(spec, i)));

    const configPath = join(dir, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        data_dir: dataDir,
        api: { enabled: true, address: `127.0.0.1:${AGENT_PORT}` },
        sources: {
          k8s: {
            type: 'kubernetes_logs',
            log_directory: root,
            kube_config_file: writeKubeconfig(dir, { server: api.url, caPem: api.caPem, token: 'test-token' }),
            self_node_name: 'node-a',
          },
        },
        sinks: {
          out: {
            type: 'http',
            inputs: ['k8s'],
            uri: receiver.url,
            encoding: { codec: 'ndjson' },
            batch: { max_events: Number(process.env.W2_BATCH_EVENTS ?? 1000), max_bytes: 4_000_000, timeout_secs: 1 },
            buffer: { max_events: 4000 },
          },
        },
      }),
    );
    // The product image's node settings, then BENCH_NODE_ARGS / the profiler.
    const { nodeArgs, env } = agentLaunch([...benchNodeArgs(), ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'profiles')}`] : [])]);
    const selfCpu0 = process.cpuUsage();
    const agent = startMeasured(process.execPath, [...nodeArgs, CLI, '--config', configPath, '--log-level', 'warn'], { env });
    const writerOptions: WriterOptions = { dirs: specs.map((s) => s.dir), linesPerContainer, rotateBytes, chunkLines: 64 };
    const writer = startMeasured(process.execPath, [WRITER_SCRIPT, JSON.stringify(writerOptions)], { stdout: 'pipe' });
    let writerOutput = '';
    writer.child.stdout!.on('data', (chunk: Buffer) => (writerOutput += chunk.toString()));
    const writerMeasured = writer.result();
    let writerDoneAt = 0;
    void writerMeasured.then(() => (writerDoneAt = performance.now()));

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      receiver.complete().then(() => 'complete' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSecs * 1000))),
      new Promise<'agent exited'>((resolve) => agent.child.on('exit', () => resolve('agent exited'))),
    ]);
    clearTimeout(timer);
    const endedAt = receiver.completedAt || performance.now();
    const selfCpu = process.cpuUsage(selfCpu0);
    const sent = await sinkSentEvents(AGENT_PORT, 'out');
    if (agent.child.exitCode === null) agent.stop();
    const agentMeasured = await agent.result();
    const writerFigures = await writerMeasured;
    if (writerFigures.exitCode !== 0) throw new Error(`writer failed (exit ${writerFigures.exitCode}): ${writerOutput}`);
    const written = JSON.parse(writerOutput.trim()) as WriterResult;
    if (outcome !== 'complete') console.error(`W2: ${outcome}: ${receiver.unique} of ${receiver.expected} lines arrived (sink reported ${sent} sent)`);

    const bytesPerLine = written.bytes / written.lines;
    const baseline: Row = { workload: 'W2 baseline: writer alone', lines: written.lines, bytes: written.bytes, seconds: written.seconds, cpuSeconds: writerFigures.cpuSeconds, peakRssMiB: writerFigures.peakRssMiB };
    const rows: Row[] = [
      baseline,
      {
        workload: `W2 sluice -> http (${containers} containers, enriched)`,
        lines: receiver.unique,
        bytes: receiver.unique * bytesPerLine,
        seconds: (endedAt - agent.started) / 1000,
        cpuSeconds: agentMeasured.cpuSeconds,
        peakRssMiB: agentMeasured.peakRssMiB,
        baseline,
      },
    ];
    const details: W2Details = {
      expected: receiver.expected,
      received: receiver.unique,
      lost: receiver.expected - receiver.unique,
      duplicates: receiver.duplicates,
      unenriched: receiver.unenriched,
      malformed: receiver.malformed,
      wrongPod: receiver.wrongPod,
      sampled: receiver.sampled,
      rotations: written.rotations,
      gzipped: written.gzipped,
      requests: receiver.requests,
      wireMB: receiver.wireBytes / 1e6,
      drainSeconds: writerDoneAt ? Math.max(0, (endedAt - writerDoneAt) / 1000) : NaN,
      receiverCpuSeconds: (selfCpu.user + selfCpu.system) / 1e6,
      timedOut: outcome !== 'complete',
      agentExitCode: agentMeasured.exitCode,
      missing: receiver.missing(),
    };
    return { rows, details };
  } finally {
    await receiver.close();
    await api.close();
    if (!process.env.W2_KEEP) rmSync(root, { recursive: true, force: true });
  }
}

export function formatW2Details(d: W2Details): string {
  const lines = [
    `lines: ${d.expected.toLocaleString('en-US')} written, ${d.received.toLocaleString('en-US')} received once or more; lost ${d.lost}, duplicated ${d.duplicates}` +
      `; not enriched ${d.unenriched}, malformed ${d.malformed}, wrong pod ${d.wrongPod} of ${d.sampled} sampled`,
    `rotations: ${d.rotations} (${d.gzipped} gzipped); ${d.requests} requests, ${d.wireMB.toFixed(1)} MB on the wire; receiver complete ${d.drainSeconds.toFixed(2)} s after the writer finished` +
      `; receiver + fake API CPU ${d.receiverCpuSeconds.toFixed(2)} s` +
      `${d.timedOut ? ' (gave up: timeout or agent exit)' : ''}; agent exit code ${d.agentExitCode}`,
  ];
  for (const m of d.missing.slice(0, 10)) lines.push(`missing: container ${m.container}: ${m.count} lines, first seq ${m.first.join(', ')}`);
  return lines.join('\n');
}

/** The table rows; the loss/duplicate check and rotation figures are printed (exit code 1 on loss or duplicates). */
export async function runW2(): Promise<Row[]> {
  const { rows, details } = await runW2Detailed();
  console.log(formatW2Details(details));
  if (details.lost > 0 || details.duplicates > 0) process.exitCode = 1;
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runW2();
  console.log();
  console.log(TABLE_HEADER);
  for (const row of rows) console.log(formatRow(row));
}
