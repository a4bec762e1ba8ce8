// The CI workflows cannot run here (no Docker engine, no GitHub): hold them to what can be checked,
// that they parse and that every repository file they name exists, so a rename cannot orphan them.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from './kube.js';

const workflowsDir = join(repoRoot, '.github', 'workflows');

type Permissions = string | Record<string, string> | undefined;
interface Step { uses?: string; run?: string; with?: Record<string, unknown> }
interface Job { 'runs-on': string; permissions?: Permissions; needs?: string | string[]; env?: Record<string, string>; steps: Step[] }
interface Workflow { on: unknown; permissions?: Permissions; jobs: Record<string, Job> }

const repositoryPaths = /(?:^|[\s"'=])((?:deploy|charts|scripts)\/[\w./-]+\.(?:ya?ml|mjs))/g;

describe('CI workflows', () => {
  const files = readdirSync(workflowsDir).filter((name) => name.endsWith('.yml'));

  it('build, scan and push the image; publish the deployment files on release', () => {
    assert.deepEqual(files.sort(), ['image.yml', 'release.yml']);
    const image = YAML.parse(readFileSync(join(workflowsDir, 'image.yml'), 'utf8')) as Workflow;
    const uses = Object.values(image.jobs).flatMap((job) => job.steps.map((step) => step.uses ?? ''));
    assert.ok(uses.some((u) => u.startsWith('docker/build-push-action@')), 'build');
    assert.ok(uses.some((u) => u.startsWith('aquasecurity/trivy-action@')), 'trivy scan');
    const push = Object.values(image.jobs)
      .flatMap((job) => job.steps)
      .find((step) => step.with?.['push'] === true || /(?:^|,)push=true(?:,|$)/.test(String(step.with?.['outputs'] ?? '')));
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

  // Supply chain: a tag can be moved to other code at any time (trivy-action's tags were
  // force-pushed to a credential stealer in March 2026); a commit SHA cannot.
  describe('supply chain', () => {
    const parsed = files.map((name) => ({ name, text: readFileSync(join(workflowsDir, name), 'utf8') }));

    for (const { name, text } of parsed) {
      it(`${name}: every action is pinned to a full commit SHA, its version in a comment`, () => {
        const workflow = YAML.parse(text) as Workflow;
        const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.uses ? [step.uses] : [])));
        assert.ok(uses.length > 0);
        // Comments are lost by the parser: read the lines, and check they are all the parser saw.
        const lines = text.split('\n').flatMap((line) => {
          const match = /^\s*(?:-\s+)?uses:\s*(\S+)\s*(.*)$/.exec(line);
          return match ? [{ ref: match[1]!, comment: match[2]!, line }] : [];
        });
        assert.deepEqual(lines.map((l) => l.ref).sort(), [...uses].sort());
        for (const { ref, comment, line } of lines) {
          if (ref.startsWith('./')) continue; // a local action is the repository's own code
          assert.match(ref, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `not pinned to a commit SHA: ${line.trim()}`);
          assert.match(comment, /^# v?\d+\.\d+\.\d+$/, `no version comment: ${line.trim()}`);
        }
      });

      it(`${name}: top-level permissions grant nothing to write; no job that can write runs a scanner`, () => {
        const workflow = YAML.parse(text) as Workflow;
        assert.ok(workflow.permissions !== undefined, 'top-level permissions must be set (the default token can write)');
        assert.deepEqual(writes(workflow.permissions), [], 'top-level permissions');
        for (const [id, job] of Object.entries(workflow.jobs)) {
          const granted = writes(job.permissions ?? workflow.permissions);
          if (job.steps.some(isScanner)) assert.deepEqual(granted, [], `job ${id} runs a scanner`);
          // The OIDC token signs; only a job that runs cosign may ask for it.
          if (granted.includes('id-token')) {
            assert.ok(job.steps.some((step) => step.uses?.startsWith('sigstore/cosign-installer@')), `job ${id} gets id-token without signing`);
          }
        }
      });
    }

    it('image.yml scans the pushed digest for every platform it builds, before tagging and signing it', () => {
      const image = YAML.parse(parsed.find((f) => f.name === 'image.yml')!.text) as Workflow;
      const [buildId, build] = Object.entries(image.jobs).find(([, job]) => job.steps.some((step) => /push=true/.test(String(step.with?.['outputs'] ?? ''))))!;
      const platforms = String(build.steps.find((step) => step.with?.['platforms'])!.with!['platforms']).replace('${{ env.PLATFORMS }}', String((image as { env?: Record<string, string> }).env?.['PLATFORMS']));
      const [scanId, scan] = Object.entries(image.jobs).find(([, job]) => asList(job.needs).includes(buildId) && job.steps.some(isScanner))!;
      assert.match(String(scan.env?.['IMAGE']), new RegExp(`@\\$\\{\\{ needs\\.${buildId}\\.outputs\\.digest \\}\\}$`));
      const matrix = (scan as { strategy?: { matrix?: { platform?: string[] } } }).strategy?.matrix?.platform ?? [];
      assert.deepEqual([...matrix].sort(), platforms.split(',').sort());
      const signer = Object.values(image.jobs).find((job) => job.steps.some((step) => /cosign sign /.test(step.run ?? '')))!;
      assert.ok(asList(signer.needs).includes(scanId), 'signing waits for the scan');
      assert.ok(signer.steps.some((step) => /cosign attest .*spdxjson/.test(step.run ?? '')), 'the SBOM is attested');
    });

    it('release.yml signs the chart it publishes', () => {
      const release = parsed.find((f) => f.name === 'release.yml')!.text;
      assert.match(release, /cosign sign-blob --yes --bundle/);
      assert.match(release, /sluice-\$\{GITHUB_REF_NAME#v\}\.tgz\.sigstore\.json/);
    });
  });
});

const SCANNERS = /^(?:aquasecurity\/(?:trivy-action|setup-trivy)|anchore\/(?:scan-action|sbom-action)|github\/codeql-action\/analyze)@/;

function isScanner(step: Step): boolean {
  return SCANNERS.test(step.uses ?? '') || /\b(?:trivy|grype|syft)\s/.test(step.run ?? '');
}

/** The scopes a `permissions:` value lets the token write. */
function writes(permissions: Permissions): string[] {
  if (permissions === undefined || permissions === 'write-all') return ['(all)'];
  if (permissions === 'read-all') return [];
  if (typeof permissions === 'string') return [`(${permissions})`];
  return Object.entries(permissions ?? {}).filter(([, level]) => level === 'write').map(([scope]) => scope);
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}
