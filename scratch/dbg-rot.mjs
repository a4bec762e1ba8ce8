import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeletSim } from '/work/wt-logs/dist/test/kubelet-sim.js';
import { CollectingOutput, startSource, testContext } from '/work/wt-logs/dist/test/source-driver.js';
import { pino } from 'pino';
import { kubernetesLogsSchema } from '/work/wt-logs/dist/src/sources/kubernetes_logs/config.js';
import { KubernetesLogsSource } from '/work/wt-logs/dist/src/sources/kubernetes_logs/source.js';
const dir = mkdtempSync(join(tmpdir(), 'dbg-'));
const sim = new KubeletSim({ root: join(dir,'pods'), format: 'cri', rotateAtBytes: 8192, maxFiles: 4, compress: true });
const pods = [sim.addPod('a', 'p1', ['c1', 'c2']), sim.addPod('b', 'p2', ['c1'])];
const out = new CollectingOutput();
const src = new KubernetesLogsSource(kubernetesLogsSchema.parse({ log_directory: join(dir,'pods'), glob_minimum_cooldown_ms: 200 }), {...testContext(join(dir,'data')).ctx, logger: pino({level:'debug'}, pino.destination('/tmp/dbg.log'))});
const running = startSource(src, out);
await new Promise((r) => setTimeout(r, 100));
for (let i = 0; i < 3000; i++) {
  const pod = pods[i % 2];
  const container = [...pod.containers.values()][Math.floor(i / 2) % pod.containers.size];
  sim.write(container, i % 7 === 0 ? 'stderr' : 'stdout', `line ${i} ${'z'.repeat(i % 50)}`);
  if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
}
await new Promise((r) => setTimeout(r, 1500));
await running.stop(); sim.stop();
for (const pod of sim.pods) for (const c of pod.containers.values()) for (const s of ['stdout','stderr']) {
  const got = out.events.filter(e => e.fields.kubernetes.pod_uid === pod.uid && e.fields.kubernetes.container_name === c.name && e.fields.stream === s).map(e => e.fields.message);
  const exp = c.written[s];
  let i = 0; while (i < exp.length && got[i] === exp[i]) i++;
  console.log(pod.name, c.name, s, 'got', got.length, 'exp', exp.length, 'first diff at', i, 'got:', got[i], 'exp:', exp[i]);
}
