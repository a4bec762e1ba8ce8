import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KubeletSim, type SimContainer } from '../../../test/kubelet-sim.js';
import { waitFor } from '../../../test/source-driver.js';

// The sluice CLI, as deployed.
const AGENT = join(import.meta.dirname, '..', '..', 'cli.js');

const dir = mkdtempSync(join(tmpdir(), 'sluice-kill-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startAgent(configPath: string): ChildProcess {
  const child = spawn(process.execPath, [AGENT, '--config', configPath, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

interface Shipped {
  message: string;
  stream: string;
  kubernetes: { pod_uid: string; container_name: string };
}

function shipped(path: string): Shipped[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}')) // a line cut by SIGKILL mid-write is not an event
    .map((line) => JSON.parse(line) as Shipped);
}

test('SIGKILL and restart through the CLI: every line shipped, in order, duplicates bounded', async () => {
  const logDirectory = join(dir, 'pods');
  const output = join(dir, 'out.ndjson');
  const configPath = join(dir, 'sluice.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(dir, 'data'),
      sources: { k8s: { type: 'kubernetes_logs', log_directory: logDirectory, checkpoint_interval_secs: 0.1, glob_minimum_cooldown_ms: 200 } },
      sinks: { out: { type: 'file', inputs: ['k8s'], path: output } },
    }),
  );
  const sim = new KubeletSim({ root: logDirectory, format: 'cri', rotateAtBytes: 20_000, compress: true });
  const containers: SimContainer[] = [];
  for (let p = 0; p < 3; p++) containers.push(...sim.addPod('ns', `p${p}`, ['a', 'b']).containers.values());
  let written = 0;
  const writeSome = (count: number) => {
    for (let i = 0; i < count; i++, written++) sim.write(containers[written % containers.length]!, written % 5 === 0 ? 'stderr' : 'stdout', `line ${written}`);
  };

  writeSome(3000);
  let agent = startAgent(configPath);
  await waitFor(() => shipped(output).length >= 1000, 'first lines shipped', 15_000);
  for (let round = 0; round < 5; round++) {
    writeSome(500);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Let every line so far ship and a few checkpoint intervals (0.1 s) pass: the persisted
  // checkpoints then cover them, and only the last burst, written right before the kill, is in
  // flight. (Killing amid the rounds made the repeat count depend on machine speed.)
  await waitFor(() => new Set(shipped(output).map((e) => e.message)).size >= written, 'the rounds shipped', 15_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const inFlight = 500;
  writeSome(inFlight);
  await new Promise((resolve) => setTimeout(resolve, 20));
  agent.kill('SIGKILL');
  await new Promise((resolve) => agent.once('exit', resolve));
  writeSome(2000); // rotations (and gzip of rotated files) happen while the agent is down
  agent = startAgent(configPath);
  await waitFor(() => new Set(shipped(output).map((e) => e.message)).size >= written, 'every line after restart', 20_000);
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  sim.stop();

  const events = shipped(output);
  let duplicates = 0;
  for (const container of containers) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const got = events
        .filter((e) => e.kubernetes.pod_uid === container.pod.uid && e.kubernetes.container_name === container.name && e.stream === stream)
        .map((e) => e.message);
      // At least once: drop repeats of what was already shipped, the rest is the exact sequence.
      const seen = new Set<string>();
      const firsts = got.filter((m) => (seen.has(m) ? (duplicates++, false) : (seen.add(m), true)));
      assert.deepEqual(firsts, container.written[stream], `${container.dir} ${stream}`);
    }
  }
  // Only what was in flight at the kill (unacknowledged, or acknowledged after the last checkpoint write) repeats.
  assert.ok(duplicates <= inFlight, `${duplicates} duplicates; only the ${inFlight} lines of the last burst could repeat`);
});

test('SIGTERM and restart through the CLI: nothing lost, nothing repeated', async () => {
  const logDirectory = join(dir, 'pods-term');
  const output = join(dir, 'out-term.ndjson');
  const configPath = join(dir, 'sluice-term.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      data_dir: join(dir, 'data-term'),
      sources: { k8s: { type: 'kubernetes_logs', log_directory: logDirectory, checkpoint_interval_secs: 60 } },
      sinks: { out: { type: 'file', inputs: ['k8s'], path: output } },
    }),
  );
  const sim = new KubeletSim({ root: logDirectory, format: 'docker', rotateAtBytes: 30_000 });
  const c = sim.addPod('ns', 'term', ['c']).container('c');
  for (let i = 0; i < 2000; i++) sim.write(c, 'stdout', `term ${i}`);
  let agent = startAgent(configPath);
  await waitFor(() => shipped(output).length >= 2000, 'first run', 15_000);
  agent.kill('SIGTERM'); // the checkpoint interval is long: only the shutdown write can save it
  await new Promise((resolve) => agent.once('exit', resolve));
  for (let i = 2000; i < 2500; i++) sim.write(c, 'stdout', `term ${i}`);
  agent = startAgent(configPath);
  await waitFor(() => shipped(output).length >= 2500, 'second run', 15_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  sim.stop();
  assert.deepEqual(
    shipped(output).map((e) => e.message),
    c.written.stdout,
  );
});
