import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FakeApiServer } from '../../../test/k8s/fake-apiserver.js';
import { namespace, node, pod } from '../../../test/k8s/fixtures.js';
import { writeKubeconfig } from '../../../test/k8s/kubeconfig.js';
import { KubeletSim } from '../../../test/kubelet-sim.js';
import { CollectingOutput, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { kubernetesLogsSchema } from './config.js';
import { KubernetesLogsSource } from './source.js';

// Per-pod multiline and parsing end to end: the simulated kubelet writes CRI files, the fake API
// server holds the pods and their annotations, the source reads, joins, parses and checkpoints.

const dir = mkdtempSync(join(tmpdir(), 'sluice-k8s-shaping-'));
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
after(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TRACE = [
  'Exception in thread "main" java.lang.IllegalStateException: order 42 has no lines',
  '\tat com.example.shop.OrderService.total(OrderService.java:118)',
  '\tat com.example.shop.OrderController.get(OrderController.java:57)',
  'Caused by: java.lang.NullPointerException: Cannot invoke "java.util.List.size()" because "lines" is null',
  '\tat com.example.shop.Order.lines(Order.java:33)',
  '\t... 12 more',
];

test('annotations: a Java trace through CRI partials and a rotation is one event; a json pod gets fields; an annotation added later applies live', async () => {
  const server = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  cleanups.push(() => server.close());
  server.upsert('nodes', node('node-a'));
  server.upsert('namespaces', namespace('shop'));
  server.upsert('pods', pod({ name: 'orders', namespace: 'shop', uid: 'u-orders', annotations: { 'sluice.dev/multiline': 'java' } }));
  server.upsert('pods', pod({ name: 'cart', namespace: 'shop', uid: 'u-cart', annotations: { 'sluice.dev/parser': 'json' } }));
  server.upsert('pods', pod({ name: 'later', namespace: 'shop', uid: 'u-later' }));
  // Lines longer than 40 bytes are split into CRI P ... F records, as runtimes do at 16 KiB.
  const sim = new KubeletSim({ root: join(dir, 'pods'), format: 'cri', partialBytes: 40 });
  cleanups.push(() => sim.stop());
  const orders = sim.addPod('shop', 'orders', ['app'], 'u-orders').container('app');
  const cart = sim.addPod('shop', 'cart', ['app'], 'u-cart').container('app');
  const later = sim.addPod('shop', 'later', ['app'], 'u-later').container('app');

  const config = kubernetesLogsSchema.parse({
    log_directory: join(dir, 'pods'),
    kube_config_file: writeKubeconfig(dir, { server: server.url, caPem: server.caPem, token: 'test-token' }),
    self_node_name: 'node-a',
    pod_metadata_wait_ms: 2000,
    multiline: { timeout_ms: 10_000 }, // only the next line may end the trace here
  });
  const { ctx } = testContext(join(dir, 'data'));
  const out = new CollectingOutput();
  const running = startSource(new KubernetesLogsSource(config, ctx, undefined, { idlePollMs: 100 }), out);
  cleanups.push(() => running.stop());
  const ofPod = (name: string) => out.events.filter((e) => (e.fields.kubernetes as { pod_name: string }).pod_name === name);

  sim.write(orders, 'stdout', 'GET /orders/42');
  for (const line of TRACE.slice(0, 3)) sim.write(orders, 'stdout', line);
  await waitFor(() => ofPod('orders').length >= 1, 'the line before the trace', 8000);
  await sleep(300); // the first half is read (and held) before the rotation
  sim.rotate(orders);
  for (const line of TRACE.slice(3)) sim.write(orders, 'stdout', line);
  sim.write(orders, 'stdout', 'GET /orders/43');
  sim.write(cart, 'stdout', '{"level":"warn","msg":"cart expired","items":3}');
  sim.write(cart, 'stdout', 'not json');
  sim.write(later, 'stdout', '{"level":"info","before":true}');
  await waitFor(() => ofPod('orders').length >= 3 && ofPod('cart').length >= 2 && ofPod('later').length >= 1, 'every pod', 8000);

  assert.deepEqual(ofPod('orders').map((e) => e.fields.message), ['GET /orders/42', TRACE.join('\n'), 'GET /orders/43']);
  assert.equal(ofPod('orders')[1]!.fields.stream, 'stdout');
  const [warn, plain] = ofPod('cart');
  assert.equal(warn!.fields.level, 'warn');
  assert.equal(warn!.fields.items, 3);
  assert.equal(warn!.fields.msg, 'cart expired');
  assert.equal((warn!.fields.kubernetes as { container_image: string }).container_image, 'registry.example/app:1.0', 'metadata stays');
  assert.equal(plain!.fields.message, 'not json');
  assert.equal(plain!.fields.level, undefined);
  assert.equal(ofPod('later')[0]!.fields.level, undefined, 'no annotation yet: no parser');

  // The annotation flips while the file is open: the next lines are parsed.
  server.update('pods', 'later', 'shop', (o) => {
    o.metadata.annotations = { 'sluice.dev/parser-app': 'json' };
  });
  await sleep(700);
  sim.write(later, 'stdout', '{"level":"info","after":true}');
  await waitFor(() => ofPod('later').length >= 2, 'the line after the flip', 8000);
  assert.equal(ofPod('later')[1]!.fields.after, true);
  assert.equal(ofPod('later')[1]!.fields.level, 'info');
  await running.stop();
});

test('a restart in the middle of a trace reads the whole trace again (the checkpoint stayed at its first line); a quiet trace is emitted after timeout_ms', async () => {
  const logDirectory = join(dir, 'restart-pods');
  const sim = new KubeletSim({ root: logDirectory, format: 'cri', partialBytes: 50 });
  cleanups.push(() => sim.stop());
  const c = sim.addPod('ns', 'worker', ['app']).container('app');
  // No API server: the source default applies to every pod.
  const config = kubernetesLogsSchema.parse({
    log_directory: logDirectory,
    pod_metadata: 'path',
    default_multiline: 'java',
    multiline: { timeout_ms: 300 },
    glob_minimum_cooldown_ms: 200,
  });
  const build = () => new KubernetesLogsSource(config, testContext(join(dir, 'restart-data')).ctx, undefined, { idlePollMs: 100 });

  sim.write(c, 'stdout', 'starting');
  for (const line of TRACE.slice(0, 3)) sim.write(c, 'stdout', line);
  const ts = '2024-01-01T00:00:00.000000001Z';
  sim.append(c, `${ts} stdout P \tat com.example.shop.Orders.\n`); // half a frame: its F comes after the restart
  const out1 = new CollectingOutput();
  let running = startSource(build(), out1);
  await waitFor(() => out1.events.length >= 1, 'the first line', 8000);
  await sleep(150); // the trace is read and held: the timeout (300 ms) has not passed
  await running.stop();
  assert.deepEqual(out1.messages(), ['starting'], 'the unfinished trace is not shipped at shutdown');

  sim.append(c, `${ts} stdout F total(Orders.java:9)\n`);
  for (const line of TRACE.slice(3)) sim.write(c, 'stdout', line);
  const out2 = new CollectingOutput();
  running = startSource(build(), out2);
  // Nothing follows the trace: it leaves after 300 ms of silence, whole.
  await waitFor(() => out2.events.length >= 1, 'the trace after the restart', 8000);
  await sleep(500); // nothing else comes
  await running.stop();
  const whole = [...TRACE.slice(0, 3), '\tat com.example.shop.Orders.total(Orders.java:9)', ...TRACE.slice(3)].join('\n');
  assert.deepEqual(out2.messages(), [whole], 'the whole trace once, nothing before it again');
});
