import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { createPodMetadataStore, kubernetesMetadataOptionsSchema, type MetadataRuntime, type PodChange, type PodMetadataStore } from '../../src/kubernetes/metadata/index.js';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.js';
import { namespace, node } from './fixtures.js';
import { writeKubeconfig } from './kubeconfig.js';

export interface StoreSetup {
  server: FakeApiServer;
  store: PodMetadataStore;
  registry: MetricsRegistry;
  changes: PodChange[];
  dir: string;
}

export interface StoreSetupOptions {
  /** Source options besides kube_config_file/self_node_name (snake_case, parsed by the real schema). */
  options?: Record<string, unknown> | ((server: FakeApiServer) => Record<string, unknown>);
  runtime?: Partial<MetadataRuntime>;
  server?: FakeApiServerOptions;
  /** Objects to create before the store starts. */
  seed?: (server: FakeApiServer) => void;
  /** Connect through this kubeconfig instead of a static-token one (gets the server and temp dir). */
  kubeconfig?: (server: FakeApiServer, dir: string) => string;
  /** Skip kube_config_file (in-cluster credentials from runtime.serviceAccountDir/env). */
  inCluster?: (server: FakeApiServer, dir: string) => Partial<MetadataRuntime>;
  env?: Record<string, string>;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Register once per test file: tears down every store, server and temp dir after each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
}

/** A fake API server with node-a/node-b and two namespaces, and a started store for node-a. */
export async function startStore(setup: StoreSetupOptions = {}): Promise<StoreSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200, ...setup.server });
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a', { zone: 'z1' }));
  server.upsert('nodes', node('node-b'));
  server.upsert('namespaces', namespace('default'));
  server.upsert('namespaces', namespace('shop', { team: 'payments' }));
  setup.seed?.(server);
  const registry = new MetricsRegistry();
  const connection = setup.inCluster
    ? {}
    : { kube_config_file: setup.kubeconfig?.(server, dir) ?? writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }) };
  const store = await createPodMetadataStore(
    // No start-up jitter unless a test asks for it (api_list_jitter_ms has its own tests).
    kubernetesMetadataOptionsSchema.parse({ ...connection, self_node_name: 'node-a', api_list_jitter_ms: 0, ...(typeof setup.options === 'function' ? setup.options(server) : setup.options) }),
    {
      backoff: { initialMs: 50, maxMs: 400 },
      metrics: registry.forComponent('source', 'k8s', 'kubernetes_logs'),
      env: setup.env ?? {},
      ...setup.inCluster?.(server, dir),
      ...setup.runtime,
    },
  );
  cleanups.push(() => store.stop());
  const changes: PodChange[] = [];
  store.onChange((change) => changes.push(change));
  assert.equal(await store.start(5000), true, 'initial sync');
  return { server, store, registry, changes, dir };
}

export async function metricValue(registry: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}
