// The CI workflows cannot run here (no Docker engine, no GitHub): hold them to what can be checked,
// that they parse and that every repository file they name exists, so a rename cannot orphan them.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from './kube.js';

const workflowsDir = join(repoRoot, '.github', 'workflows');

interface Step { uses?: string; run?: string; with?: Record<string, unknown> }
interface Workflow { on: unknown; jobs: Record<string, { 'runs-on': string; steps: Step[] }> }

const repositoryPaths = /(?:^|[\s"'=])((?:deploy|charts|scripts)\/[\w./-]+\.(?:ya?ml|mjs))/g;

describe('CI workflows', () => {
  const files = readdirSync(workflowsDir).filter((name) => name.endsWith('.yml'));

  it('build, scan and push the image; publish the deployment files on release', () => {
    assert.deepEqual(files.sort(), ['image.yml', 'release.yml']);
    const image = YAML.parse(readFileSync(join(workflowsDir, 'image.yml'), 'utf8')) as Workflow;
    const uses = Object.values(image.jobs).flatMap((job) => job.steps.map((step) => step.uses ?? ''));
    assert.ok(uses.some((u) => u.startsWith('docker/build-push-action@')), 'build');
    assert.ok(uses.some((u) => u.startsWith('aquasecurity/trivy-action@')), 'trivy scan');
    const push = Object.values(image.jobs).flatMap((job) => job.steps).find((step) => step.with?.['push'] === true);
    assert.ok(push, 'push');
  });

  for (const name of files) {
    it(`${name}: every repository file it names exists`, () => {
      const text = readFileSync(join(workflowsDir, name), 'utf8');
      const workflow = YAML.parse(text) as Workflow;
      assert.ok(workflow.on && Object.keys(workflow.jobs).length > 0);
      for (const job of Object.values(workflow.jobs)) assert.ok(job['runs-on'] && job.steps.length > 0);
      const named = [...text.matchAll(repositoryPaths)].map((match) => match[1]!);
      assert.ok(named.length > 0);
      for (const path of named) assert.ok(existsSync(join(repoRoot, path)), `${name} names ${path}`);
    });
  }
});
