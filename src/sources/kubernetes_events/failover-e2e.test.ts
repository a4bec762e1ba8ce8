// Two sluice processes against the fake API server, one Lease: the leader is SIGKILLed mid-stream.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { event, namespace } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { waitFor } from '../../../test/source-driver.js';
import type { Lease } from './leader-election.js';
import { PROGRESS_ANNOTATION } from './source.js';

const AGENT = join(import.meta.dirname, '..', '..', 'cli.js');
const LEASE_SECONDS = 2;

const dir = mkdtempSync(join(tmpdir(), 'sluice-events-failover-'));
const children: ChildProcess[] = [];
let server: FakeApiServer | undefined;
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Shipped {
  message: string;
  kubernetes_event: { name: string; count: number };
}

function shipped(path: string): Shipped[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}')) // a line cut by SIGKILL mid-write is not an event
    .map((line) => JSON.parse(line) as Shipped);
}

function startReplica(name: string, kubeconfig: string): { child: ChildProcess; output: string } {
  const output = join(dir, `${name}.ndjson`);
  const configPath = join(dir, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(dir, `data-${name}`),
      sources: { events: { type: 'kubernetes_events', kube_config_file: kubeconfig, leader_election: { lease_duration_secs: LEASE_SECONDS } } },
      sinks: { out: { type: 'file', inputs: ['events'], path: output } },
    }),
  );
  // Identity and lease namespace from the downward-API variables, as deployed.
  const child = spawn(process.execPath, [AGENT, '--config', configPath, '--log-level', 'error'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SLUICE_POD_NAME: name, SLUICE_POD_NAMESPACE: 'sluice' },
  });
  children.push(child);
  return { child, output };
}

test('two replicas, the leader SIGKILLed mid-stream: every Event change once across both outputs, or replayed only after the recorded progress', async (t) => {
  server = await FakeApiServer.start({ bookmarklessResources: ['events'] });
  const api = server;
  api.upsert('namespaces', namespace('sluice'));
  api.upsert('namespaces', namespace('apps'));
  const kubeconfig = writeKubeconfig(dir, { server: api.url, caPem: api.caPem, token: 'test-token' });
  const holder = () => (api.get('leases', 'sluice-events', 'sluice')?.spec as Lease['spec'] | undefined)?.holderIdentity;

  const a = startReplica('replica-a', kubeconfig);
  await waitFor(() => holder() === 'replica-a', 'replica-a leads', 20_000);
  const b = startReplica('replica-b', kubeconfig);

  // Each change is a new Event or a count bump of one: (name, count) identifies it. No-op
  // MODIFIEDs and DELETEs in between must emit nothing.
  const changes: { key: string; rv: number }[] = [];
  const counts = new Map<string, number>();
  let made = 0;
  const change = () => {
    const n = made++;
    if (n % 3 === 0 || counts.size === 0) {
      const name = `ev-${n}`;
      const created = api.upsert('events', event({ name, namespace: 'apps' }));
      counts.set(name, 1);
      changes.push({ key: `${name}#1`, rv: Number(created.metadata.resourceVersion) });
    } else {
      const names = [...counts.keys()];
      const name = names[n % names.length]!;
      const count = counts.get(name)! + 1;
      const updated = api.update('events', name, 'apps', (e) => void (e.series = { count, lastObservedTime: new Date().toISOString() }));
      counts.set(name, count);
      changes.push({ key: `${name}#${count}`, rv: Number(updated.metadata.resourceVersion) });
      if (n % 7 === 0) api.update('events', name, 'apps', (e) => void (e.reportingInstance = `node-${n}`)); // no count/note change
      if (n % 11 === 0) {
        api.remove('events', name, 'apps');
        counts.delete(name);
      }
    }
  };
  const produce = async (total: number) => {
    for (let i = 0; i < total; i++) {
      change();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  await produce(150);
  await waitFor(() => shipped(a.output).length >= 50, 'replica-a ships', 20_000);
  await produce(50);
  a.child.kill('SIGKILL');
  await new Promise((resolve) => a.child.once('exit', resolve));
  const madeBeforeKill = changes.length;
  // What replica-a recorded as acknowledged: the new leader starts from here.
  const recorded = Number(JSON.parse(api.get('leases', 'sluice-events', 'sluice')!.metadata.annotations?.[PROGRESS_ANNOTATION] ?? '{}')['*']);
  assert.ok(recorded > 0, 'replica-a recorded its progress on the Lease');
  await produce(150); // while nobody leads, then after the takeover
  await waitFor(() => holder() === 'replica-b', 'replica-b takes over', (LEASE_SECONDS + 8) * 1000);

  const expected = changes.map((c) => c.key);
  const union = () => [...shipped(a.output), ...shipped(b.output)].map((e) => `${e.kubernetes_event.name}#${e.kubernetes_event.count}`);
  await waitFor(() => new Set(union()).size >= new Set(expected).size, 'every change shipped', 30_000);
  b.child.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => b.child.once('exit', resolve)), 0);
  assert.equal(holder(), '', 'SIGTERM released the Lease');

  const got = union();
  assert.deepEqual([...new Set(got)].sort(), [...new Set(expected)].sort(), 'every change, and nothing else (no-op MODIFIEDs and DELETEs emit nothing)');
  const seen = new Map<string, number>();
  for (const key of got) seen.set(key, (seen.get(key) ?? 0) + 1);
  const rvOf = new Map(changes.map((c) => [c.key, c.rv]));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([key]) => key);
  for (const key of duplicated) {
    assert.equal(seen.get(key), 2, `${key} at most twice`);
    assert.ok(rvOf.get(key)! > recorded, `${key} (rv ${rvOf.get(key)}) was replayed though recorded as acknowledged (${recorded})`);
  }
  // The replay is bounded by what replica-a had not recorded yet: the changes since its last renewal.
  const unrecordedBeforeKill = changes.slice(0, madeBeforeKill).filter((c) => c.rv > recorded).length;
  t.diagnostic(`${changes.length} changes, ${duplicated.length} replayed after the failover, ${unrecordedBeforeKill} unrecorded at the kill`);
  assert.ok(duplicated.length <= unrecordedBeforeKill, `${duplicated.length} replayed, ${unrecordedBeforeKill} unrecorded at the kill`);
  // Within one change of the other replica's output, nothing is repeated by a single replica.
  for (const output of [a.output, b.output]) {
    const keys = shipped(output).map((e) => `${e.kubernetes_event.name}#${e.kubernetes_event.count}`);
    assert.equal(new Set(keys).size, keys.length, `${output}: no change twice from one replica`);
  }
  // The failover did not need a relist: the new leader resumed its watch from the recorded resourceVersion.
  assert.equal(api.requestCount('list', 'events'), 1, 'only replica-a\'s first list');
});
