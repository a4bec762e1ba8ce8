// W6, cluster scale: N simulated agents (the kubernetes_logs metadata client only: one
// PodMetadataStore each, its own connections, as on N nodes) in a few processes, against the fake
// API server in watch-cache mode with N nodes x P pods, then pod churn.
//
//   node dist/bench/w6-cluster.js [nodes=1000] [pods_per_node=30] [agent_processes=4] [seconds_per_level=20]
//
// Phases, all in one run:
// 1. start-up: every agent starts at once, with api_list_jitter_ms = 0 (the baseline: the client
//    of ccdbc00, which had no jitter) and then with the default jitter: peak lists/s at the server,
//    lists from the watch cache vs etcd, time until every agent is synced;
// 2. steady state at growing churn (pod replacements per second, cluster-wide): requests/s at the
//    server, watch bytes/s per agent (mean and the busiest), against the cluster-wide pod-event
//    bytes/s (what one agent watching every pod would receive: the baseline of the same run);
// 3. an API server restart (history compacted, every watch cut): what the agents send.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer, type ServerStats } from '../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../test/k8s/fixtures.js';
import { writeKubeconfig } from '../test/k8s/kubeconfig.js';
import { cpuSeconds, memoryMiB } from './lib/proc.js';

const SELF = fileURLToPath(import.meta.url);
const NAMESPACES = 50;

type Message = { id?: number; cmd: string; [key: string]: unknown };

// ---- child roles ---------------------------------------------------------------------------------

/** A pod as a Deployment's ReplicaSet makes it, ~2.5 KB of JSON (real ones with managedFields are larger). */
function clusterPod(nodeName: string, index: number, generation: number) {
  const app = `app-${index % 40}`;
  const p = pod({
    name: `${app}-${nodeName}-${index}-${generation}`,
    namespace: `ns-${index % NAMESPACES}`,
    uid: `uid-${nodeName}-${index}-${generation}`,
    node: nodeName,
    containers: ['app', 'sidecar'],
    labels: { app, 'pod-template-hash': '5d8f7c9b4', version: `v${generation % 7}`, team: `team-${index % 9}` },
    annotations: {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9102',
      'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00Z',
      'checksum/config': 'f'.repeat(64),
    },
    owner: { kind: 'ReplicaSet', name: `${app}-5d8f7c9b4` },
    ip: `10.${(index >> 8) & 255}.${index & 255}.7`,
  });
  (p.spec as Record<string, unknown>).volumes = [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }];
  return p;
}

/** A child whose driver died goes too (no orphans holding thousands of connections). */
function exitWithParent(): void {
  process.on('disconnect', () => process.exit(1));
}

async function serverRole(): Promise<void> {
  exitWithParent();
  const nodes = Number(process.env.W6_NODES);
  const podsPerNode = Number(process.env.W6_PODS);
  // Plain HTTP: on a shared 2-core machine, 3,000 TLS handshakes at once starve everything else;
  // TLS is no part of what this measures (requests and bytes at the API server).
  const server = await FakeApiServer.start({ watchCache: true, bookmarkIntervalMs: 60_000, historyLimit: 50_000, plainHttp: true });
  for (let n = 0; n < NAMESPACES; n++) server.upsert('namespaces', namespace(`ns-${n}`, { team: `team-${n % 9}` }));
  const generation = new Map<string, number>();
  for (let n = 0; n < nodes; n++) {
    server.upsert('nodes', node(`node-${n}`, { 'topology.kubernetes.io/zone': `z${n % 3}` }));
    for (let p = 0; p < podsPerNode; p++) server.upsert('pods', clusterPod(`node-${n}`, p, 0));
  }
  const perSecond = new Map<number, number>(); // list requests by second
  server.onRequest = (verb) => {
    if (verb !== 'list') return;
    const second = Math.floor(Date.now() / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  };
  let churn: NodeJS.Timeout | undefined;
  const reply = (message: Message, body: Record<string, unknown>) => process.send!({ id: message.id, ...body });
  process.on('message', (message: Message) => {
    if (message.cmd === 'stats') {
      const stats = server.listStats();
      reply(message, {
        counts: server.requestCounts(),
        stats: { ...stats, watchBytesByNode: [...stats.watchBytesByNode] },
        watches: server.activeWatches(),
        peakListsPerSecond: Math.max(0, ...perSecond.values()),
      });
    } else if (message.cmd === 'reset') {
      server.resetRequestCounts();
      server.resetStats();
      perSecond.clear();
      reply(message, {});
    } else if (message.cmd === 'churn') {
      // `rate` pod replacements per second, cluster-wide (a delete and a create on a random node), in 10 ticks a second.
      clearInterval(churn);
      const rate = Number(message.rate);
      let owed = 0;
      if (rate > 0) {
        churn = setInterval(() => {
          owed += rate / 10;
          for (; owed >= 1; owed--) {
            const n = Math.floor(Math.random() * nodes);
            const p = Math.floor(Math.random() * podsPerNode);
            const key = `${n}/${p}`;
            const g = generation.get(key) ?? 0;
            const old = clusterPod(`node-${n}`, p, g);
            server.remove('pods', old.metadata.name, old.metadata.namespace);
            server.upsert('pods', clusterPod(`node-${n}`, p, g + 1));
            generation.set(key, g + 1);
          }
        }, 100);
      }
      reply(message, {});
    } else if (message.cmd === 'restart') {
      // What an API server restart looks like to clients: every watch cut, the new server's history
      // starting later than the versions they hold (their resumed watches get 410).
      server.bumpResourceVersion(10);
      server.compact();
      server.dropWatches();
      reply(message, {});
    } else if (message.cmd === 'exit') {
      clearInterval(churn);
      void server.close().then(() => process.exit(0));
    }
  });
  process.send!({ cmd: 'ready', url: server.url, caPem: server.caPem });
}

async function agentsRole(): Promise<void> {
  exitWithParent();
  const { createPodMetadataStore, kubernetesMetadataOptionsSchema } = await import('../src/kubernetes/metadata/index.js');
  type Store = Awaited<ReturnType<typeof createPodMetadataStore>>;
  const first = Number(process.env.W6_FIRST);
  const count = Number(process.env.W6_COUNT);
  const kubeconfig = process.env.W6_KUBECONFIG!;
  let stores: Store[] = [];
  const reply = (message: Message, body: Record<string, unknown>) => process.send!({ id: message.id, ...body });
  process.on('message', async (message: Message) => {
    if (message.cmd === 'create') {
      // Built before the clock starts: reading the kubeconfig is no API load.
      stores = [];
      for (let n = first; n < first + count; n++) {
        const options = kubernetesMetadataOptionsSchema.parse({ kube_config_file: kubeconfig, self_node_name: `node-${n}`, api_list_jitter_ms: Number(message.jitterMs) });
        stores.push(await createPodMetadataStore(options, { env: {} }));
      }
      reply(message, {});
    } else if (message.cmd === 'start') {
      const started = Date.now();
      const synced = await Promise.all(stores.map((store) => store.start(60_000)));
      reply(message, { synced: synced.filter(Boolean).length, ms: Date.now() - started, pods: stores.reduce((sum, s) => sum + s.size, 0) });
    } else if (message.cmd === 'stop') {
      await Promise.all(stores.map((store) => store.stop()));
      stores = [];
      reply(message, {});
    } else if (message.cmd === 'pods') {
      reply(message, { pods: stores.reduce((sum, s) => sum + s.size, 0) });
    } else if (message.cmd === 'exit') {
      await Promise.all(stores.map((store) => store.stop()));
      process.exit(0);
    }
  });
  process.send!({ cmd: 'ready' });
}

// ---- driver --------------------------------------------------------------------------------------

class Child {
  private nextId = 1;
  private readonly pending = new Map<number, (body: Record<string, unknown>) => void>();
  readonly ready: Promise<Record<string, unknown>>;
  constructor(readonly process: ChildProcess) {
    this.ready = new Promise((resolve) => {
      process.on('message', (message: Message) => {
        if (message.cmd === 'ready') resolve(message);
        else if (message.id !== undefined) {
          this.pending.get(message.id)?.(message);
          this.pending.delete(message.id);
        }
      });
    });
  }
  ask(cmd: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.process.send({ id, cmd, ...extra });
    });
  }
}

function spawnRole(role: string, env: Record<string, string>): Child {
  const child = fork(SELF, [role], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // The simulated agents yield to the server (they stand for 1,000 machines, it for one).
  if (role === 'agents') spawnSync('renice', ['-n', '10', '-p', String(child.pid)], { stdio: 'ignore' });
  return new Child(child);
}

interface ServerSnapshot {
  counts: Record<string, number>;
  stats: Omit<ServerStats, 'watchBytesByNode'> & { watchBytesByNode: [string, number][] };
  watches: number;
  peakListsPerSecond: number;
}

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export interface W6Result {
  readonly markdown: string;
  readonly startup: { jitterMs: number; peakListsPerSecond: number; seconds: number; fromEtcd: number }[];
  readonly steady: { churn: number; requestsPerSecond: number; bytesPerAgentPerSecond: number; clusterPodBytesPerSecond: number }[];
}

export async function runW6(nodes = 1000, podsPerNode = 30, processes = 4, secondsPerLevel = 20): Promise<W6Result> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-w6-'));
  const server = spawnRole('server', { W6_NODES: String(nodes), W6_PODS: String(podsPerNode) });
  const { url, caPem } = (await server.ready) as { url: string; caPem: string };
  const kubeconfig = writeKubeconfig(dir, { server: url, caPem, token: 'test-token' });
  const perProcess = Math.ceil(nodes / processes);
  const agents: Child[] = [];
  for (let first = 0; first < nodes; first += perProcess) {
    agents.push(spawnRole('agents', { W6_FIRST: String(first), W6_COUNT: String(Math.min(perProcess, nodes - first)), W6_KUBECONFIG: kubeconfig }));
  }
  await Promise.all(agents.map((a) => a.ready));
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const snapshot = async () => (await server.ask('stats')) as unknown as ServerSnapshot;
  const cpu = () => ({ server: cpuSeconds(server.process.pid!), agents: sum(agents.map((a) => cpuSeconds(a.process.pid!))) });

  // 1. start-up, without and with jitter
  const startup: W6Result['startup'] = [];
  log(`| start-up of ${fmt(nodes)} agents at once | api_list_jitter_ms | lists | from watch cache | from etcd | objects scanned | peak lists/s at the server | all synced after | server CPU s | agents CPU s |`);
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const jitterMs of [0, 1000]) {
    await Promise.all(agents.map((a) => a.ask('create', { jitterMs })));
    await server.ask('reset');
    const before = cpu();
    const started = Date.now();
    const answers = await Promise.all(agents.map((a) => a.ask('start')));
    const seconds = (Date.now() - started) / 1000;
    const after = cpu();
    const s = await snapshot();
    const synced = sum(answers.map((a) => Number(a.synced)));
    const lists = sum(Object.entries(s.counts).filter(([k]) => k.startsWith('list')).map(([, v]) => v));
    startup.push({ jitterMs, peakListsPerSecond: s.peakListsPerSecond, seconds, fromEtcd: s.stats.listsFromEtcd });
    log(
      `| ${jitterMs === 0 ? 'baseline: no jitter (as at ccdbc00)' : 'default jitter'}${synced === nodes ? '' : ` (${synced} synced)`} | ${jitterMs} | ${fmt(lists)} | ${fmt(s.stats.listsFromCache)} | ${fmt(s.stats.listsFromEtcd)} | ${fmt(s.stats.objectsScanned)} | ${fmt(s.peakListsPerSecond)} | ${seconds.toFixed(1)} s | ${(after.server - before.server).toFixed(1)} | ${(after.agents - before.agents).toFixed(1)} |`,
    );
    if (jitterMs === 0) await Promise.all(agents.map((a) => a.ask('stop')));
  }
  log('');
  log(`Peak lists/s with the default jitter ÷ without: ${(startup[1]!.peakListsPerSecond / Math.max(1, startup[0]!.peakListsPerSecond)).toFixed(2)}.`);
  log('');

  // 2. steady state at growing churn
  const steady: W6Result['steady'] = [];
  log(`| churn (pod replacements/s, cluster) | requests/s at the server | watch bytes/s per agent, mean | busiest agent | baseline: cluster-wide pod-event bytes/s | mean ÷ baseline | server CPU % | agents CPU % (all ${fmt(nodes)}) |`);
  log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const churn of [0, 10, 50, 200]) {
    await server.ask('churn', { rate: churn });
    await new Promise((r) => setTimeout(r, 2000)); // let the rate settle
    await server.ask('reset');
    const before = cpu();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, secondsPerLevel * 1000));
    const s = await snapshot();
    const seconds = (Date.now() - started) / 1000;
    const after = cpu();
    const requests = sum(Object.values(s.counts));
    const watchBytes = sum(Object.entries(s.stats.bytes).filter(([k]) => k.startsWith('watch')).map(([, v]) => v));
    const namespaceBytes = s.stats.bytes['watch namespaces'] ?? 0;
    const busiest = Math.max(0, ...s.stats.watchBytesByNode.map(([, b]) => b)) + namespaceBytes / nodes;
    const clusterPodBytes = s.stats.bytes['watch pods'] ?? 0; // every pod event goes to exactly one node's watch
    const row = { churn, requestsPerSecond: requests / seconds, bytesPerAgentPerSecond: watchBytes / nodes / seconds, clusterPodBytesPerSecond: clusterPodBytes / seconds };
    steady.push(row);
    log(
      `| ${churn} | ${fmt(row.requestsPerSecond, 2)} (${JSON.stringify(s.counts)}) | ${fmt(row.bytesPerAgentPerSecond, 1)} | ${fmt(busiest / seconds, 1)} | ${fmt(row.clusterPodBytesPerSecond)} | ${clusterPodBytes > 0 ? (row.bytesPerAgentPerSecond / row.clusterPodBytesPerSecond).toFixed(4) : '-'} | ${(((after.server - before.server) / seconds) * 100).toFixed(1)} | ${(((after.agents - before.agents) / seconds) * 100).toFixed(1)} |`,
    );
  }
  await server.ask('churn', { rate: 0 });
  log('');

  // 3. API server restart
  await server.ask('reset');
  const restartBefore = cpu();
  await server.ask('restart');
  const settleStarted = Date.now();
  let s = await snapshot();
  while (s.watches < nodes * 3 && Date.now() - settleStarted < 120_000) {
    await new Promise((r) => setTimeout(r, 500));
    s = await snapshot();
  }
  const restartSeconds = (Date.now() - settleStarted) / 1000;
  const restartAfter = cpu();
  const pods = sum((await Promise.all(agents.map((a) => a.ask('pods')))).map((a) => Number(a.pods)));
  log(
    `API server restart (every watch cut, history compacted): ${s.watches} of ${nodes * 3} watches back after ${restartSeconds.toFixed(1)} s; requests ${JSON.stringify(s.counts)}; lists from the watch cache ${s.stats.listsFromCache}, from etcd ${s.stats.listsFromEtcd} (objects scanned ${fmt(s.stats.objectsScanned)}); peak lists/s ${s.peakListsPerSecond}; server CPU ${(restartAfter.server - restartBefore.server).toFixed(1)} s, agents ${(restartAfter.agents - restartBefore.agents).toFixed(1)} s; pods cached by all agents ${fmt(pods)} (expected ${fmt(nodes * podsPerNode)} plus deleted ones kept 60 s).`,
  );
  const rss = agents.map((a) => memoryMiB(a.process.pid!).rss);
  log(`Agent processes' RSS: ${rss.map((r) => r.toFixed(0)).join(', ')} MiB (${fmt(perProcess)} metadata clients each, ${(sum(rss) / nodes).toFixed(2)} MiB per client); server ${memoryMiB(server.process.pid!).rss.toFixed(0)} MiB.`);

  await Promise.all([...agents, server].map((child) => {
    const exited = new Promise((r) => child.process.once('exit', r));
    child.process.send({ cmd: 'exit' });
    return exited;
  }));
  rmSync(dir, { recursive: true, force: true });
  return { markdown: lines.join('\n'), startup, steady };
}

const role = process.argv[2];
if (role === 'server') await serverRole();
else if (role === 'agents') await agentsRole();
else if (process.argv[1] === SELF) {
  const [nodes, pods, processes, seconds] = process.argv.slice(2).map(Number);
  await runW6(nodes || 1000, pods || 30, processes || 4, seconds || 20);
}
