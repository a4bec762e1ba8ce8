// The DaemonSet's contract with the real agent: the flags the pod passes are the agent's flags, the
// probe paths answer, and SIGTERM ends the agent (exit 0) well within terminationGracePeriodSeconds.
// The pod's --config files are replaced by a demo topology: the kubernetes_logs source needs a node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { agentContainer, daemonSet, deployDir, parseManifests, repoRoot } from './kube.js';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-pod-contract-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('pod contract with the agent', () => {
  it('runs with the pod\'s flags, answers the probes, stops on SIGTERM inside the grace period', async () => {
    const ds = daemonSet(parseManifests(readFileSync(join(deployDir, 'sluice-namespaced.yaml'), 'utf8')));
    const container = agentContainer(ds);
    const args = container.args ?? [];
    const withoutConfigs = args.filter((arg, index) => arg !== '--config' && args[index - 1] !== '--config');
    const config = join(scratch, 'demo.yaml');
    writeFileSync(
      config,
      `data_dir: ${scratch}\napi: {enabled: true, address: "127.0.0.1:0"}\n` +
        'sources: {demo: {type: demo_logs, interval_secs: 0.05}}\nsinks: {out: {type: blackhole, inputs: [demo]}}\n',
    );
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'cli.js'), '--config', config, ...withoutConfigs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_NODE_NAME: 'node-1', SLUICE_POD_NAME: 'sluice-abcde', SLUICE_POD_NAMESPACE: 'sluice' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await waitFor(() => /"address":"127\.0\.0\.1:(\d+)"/.exec(output)?.[1], `the API address in:\n${output}`);
      const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      await waitFor(() => (/sluice started/.test(output) ? true : undefined), 'startup');
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        assert.equal(probe?.httpGet?.port, 'api');
        assert.equal(await status(probe!.httpGet!.path), 200, probe!.httpGet!.path);
      }
      const grace = ds.spec.template.spec['terminationGracePeriodSeconds'] as number;
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      assert.equal(await exit, 0, output);
      assert.ok(Date.now() - stoppedAt < grace * 1000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
