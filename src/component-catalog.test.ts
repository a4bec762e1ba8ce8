// The agent loads a component's module only when its config uses the type (src/component-catalog.ts).
// Each test file runs in its own process, so the registry starts empty here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import './component-catalog.js';
import { ConfigError } from './core/config/errors.js';
import { loadConfigAndComponents } from './core/config/load.js';
import { cataloguedTypes, findDefinition, knownTypes, loadAllComponents } from './core/registry.js';
import type { ComponentKind } from './core/component.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, body: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ data_dir: join(dir, 'data'), ...body }));
  return file;
}

test('a config loads the modules of the types it uses, and only those', async () => {
  const file = configFile('used.json', {
    sources: { gen: { type: 'demo_logs', count: 1 } },
    transforms: { keep: { type: 'filter', inputs: ['gen'], condition: 'true' } },
    sinks: { out: { type: 'blackhole', inputs: ['keep'] } },
  });
  const config = await loadConfigAndComponents({ files: [file] }, {}, { environment: false });
  assert.deepEqual(
    config.components.map((c) => `${c.kind}:${c.type}`),
    ['source:demo_logs', 'transform:filter', 'sink:blackhole'],
  );
  for (const [kind, type] of [['source', 'demo_logs'], ['transform', 'filter'], ['sink', 'blackhole']] as const) assert.ok(findDefinition(kind, type), `${kind} ${type} loaded`);
  for (const [kind, type] of [['sink', 'http'], ['sink', 'aws_s3'], ['transform', 'remap'], ['source', 'kubernetes_logs']] as const) {
    assert.equal(findDefinition(kind, type), undefined, `${kind} ${type} not loaded`);
    assert.ok(knownTypes(kind).includes(type), `${kind} ${type} known by name`);
  }
});

test('an unknown type is reported with every known type, loaded or not; the options of an unloaded type are still validated', async () => {
  const file = configFile('wrong.json', {
    sources: { gen: { type: 'demo_logs', count: 1 } },
    sinks: { out: { type: 'htp', inputs: ['gen'] }, s3: { type: 'aws_s3', inputs: ['gen'], bucket: 7 } },
  });
  const error = await loadConfigAndComponents({ files: [file] }, {}, { environment: false }).then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError);
  const unknown = error.problems.find((p) => p.includes('sinks.out.type'));
  assert.match(unknown ?? '', /unknown sink type "htp" \(known: .*\bhttp\b.*\)/);
  assert.ok(error.problems.some((p) => p.includes('sinks.s3.bucket')), error.problems.join('\n'));
});

test('the catalog lists every component, and each entry registers its own type', async () => {
  await import('./components.js'); // every component, as the JSON Schema and docs see them
  await loadAllComponents();
  for (const kind of ['source', 'transform', 'sink'] as ComponentKind[]) {
    assert.deepEqual(knownTypes(kind), cataloguedTypes(kind), `${kind}s registered but not in src/component-catalog.ts`);
    for (const type of cataloguedTypes(kind)) assert.equal(findDefinition(kind, type)?.type, type);
  }
});
