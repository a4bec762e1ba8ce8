// The configuration reference (docs/reference/) and the JSON Schema are generated from the zod
// schemas: the committed pages must be what `sluice generate-docs` renders, and an editor
// validating against the JSON Schema must name the wrong option of the chosen component type.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import '../../src/components.js';
import { configJsonSchema } from '../../src/core/config/json-schema.js';
import { renderReferenceDocs, undescribedOptions } from '../../src/core/config/reference-docs.js';
import { repoRoot } from './kube.js';

const REGENERATE = 'npm run docs:reference   (= npm run build && node dist/src/cli.js generate-docs)';
const referenceDir = join(repoRoot, 'docs', 'reference');

function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? markdownFiles(path) : entry.name.endsWith('.md') ? [relative(referenceDir, path)] : [];
  });
}

describe('docs/reference', () => {
  it('describes every option of every registered component and of the top level', () => {
    // Components registered later are covered too: the list comes from the registry.
    assert.deepEqual(undescribedOptions(), [], 'options without a description: add .describe(...) to their zod schema, then regenerate the reference');
  });

  it('is what generate-docs renders from the schemas (not stale)', () => {
    const pages = renderReferenceDocs();
    const stale: string[] = [];
    for (const [path, text] of pages) {
      const file = join(referenceDir, path);
      if (!existsSync(file)) stale.push(`docs/reference/${path} is missing`);
      else if (readFileSync(file, 'utf8') !== text) stale.push(`docs/reference/${path} differs from its schema`);
    }
    for (const path of markdownFiles(referenceDir)) {
      if (!pages.has(path.split('\\').join('/'))) stale.push(`docs/reference/${path} documents no registered component`);
    }
    assert.deepEqual(stale, [], `the reference is stale; regenerate it with\n  ${REGENERATE}\nand commit docs/reference/:\n  ${stale.join('\n  ')}`);
  });

  it('shows the examples of a schema\'s metadata (zod .meta({ examples }))', () => {
    const page = renderReferenceDocs().get('sources/kubernetes_logs.md')!;
    assert.match(page, /^### `extra_label_selector`\n\n.*\n- example: `app=web,tier!=db`$/m);
    assert.match(page, /^- example: `\{"kubernetes\.priority":"spec\.priorityClassName"\}`$/m);
  });

  it('is what the component READMEs link to (every link to docs/reference/ resolves)', () => {
    const readmes = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? readmes(join(dir, e.name)) : e.name === 'README.md' ? [join(dir, e.name)] : []));
    const broken: string[] = [];
    let links = 0;
    for (const readme of readmes(join(repoRoot, 'src'))) {
      for (const [, target] of readFileSync(readme, 'utf8').matchAll(/\]\(([^)]*docs\/reference\/[^)#]*)/g)) {
        links++;
        if (!existsSync(join(readme, '..', target!))) broken.push(`${relative(repoRoot, readme)} -> ${target}`);
      }
    }
    assert.ok(links >= 4, `links found: ${links}`);
    assert.deepEqual(broken, []);
  });

  it('`sluice generate-docs --out DIR` writes those pages, and removes the page of a component no longer registered', () => {
    const out = mkdtempSync(join(tmpdir(), 'sluice-reference-'));
    try {
      mkdirSync(join(out, 'sinks'));
      writeFileSync(join(out, 'sinks', 'gone.md'), renderReferenceDocs().get('sinks/file.md')!); // a generated page
      writeFileSync(join(out, 'sinks', 'notes.md'), 'hand-written\n'); // not generated: kept
      const stdout = execFileSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli.js'), 'generate-docs', '--out', out], { encoding: 'utf8' });
      assert.match(stdout, /^wrote \d+ pages to /);
      for (const [path, text] of renderReferenceDocs()) assert.equal(readFileSync(join(out, path), 'utf8'), text, path);
      assert.equal(existsSync(join(out, 'sinks', 'gone.md')), false);
      assert.equal(readFileSync(join(out, 'sinks', 'notes.md'), 'utf8'), 'hand-written\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('renders deterministically: twice the same', () => {
    assert.deepEqual([...renderReferenceDocs()], [...renderReferenceDocs()]);
  });

  it('flattens nested options, and shows defaults and enum values', () => {
    const http = renderReferenceDocs().get('sinks/http.md')!;
    assert.match(http, /^### `encoding\.codec`\n\n- type: string; optional; default: `json`\n- one of: `json`, `ndjson`, `text`$/m);
    assert.match(http, /^### `uri`\n\n- type: string; required$/m);
    assert.match(http, /^### `buffer\.when_full`$/m);
    assert.match(renderReferenceDocs().get('global.md')!, /^### `api\.tap_from_network`$/m);
  });
});

describe('JSON Schema of the configuration', () => {
  type Ajv = { compile(schema: object): ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; keyword: string; params: Record<string, unknown> }> } };
  // A real validator (ajv, a devDependency) shows what editors report.
  const AjvModule = createRequire(import.meta.url)('ajv/dist/2020.js') as { default: new (options: object) => Ajv };
  const validate = new AjvModule.default({ strict: false, allErrors: true, validateFormats: false }).compile(configJsonSchema());
  const errorsOf = (config: unknown) => (validate(config) ? [] : validate.errors!);
  const base = { sources: { in: { type: 'demo_logs' } } };

  it('accepts a valid config', () => {
    assert.deepEqual(errorsOf({ ...base, data_dir: '/d', sinks: { out: { type: 'http', inputs: ['in'], uri: 'https://h:1/', batch: { max_events: 10 } } } }), []);
  });

  it('names the unknown option of the chosen type, not every other type', () => {
    const errors = errorsOf({ ...base, sinks: { out: { type: 'http', inputs: ['in'], uri: 'https://h:1/', batchh: {} } } });
    assert.deepEqual(
      errors.filter((e) => e.keyword !== 'if').map((e) => [e.instancePath, e.keyword, e.params.additionalProperty]),
      [['/sinks/out', 'additionalProperties', 'batchh']],
    );
  });

  it('names the wrong value of a nested option', () => {
    const errors = errorsOf({ ...base, sinks: { out: { type: 'http', inputs: ['in'], uri: 'https://h:1/', encoding: { codec: 'xml' } } } });
    assert.ok(errors.length > 0);
    for (const error of errors.filter((e) => e.keyword !== 'if')) assert.match(error.instancePath, /^\/sinks\/out\/encoding/, JSON.stringify(error));
  });

  it('names an unknown type by its enum of registered types', () => {
    const errors = errorsOf({ sources: { in: { type: 'no_such_source' } } });
    assert.deepEqual(errors.map((e) => [e.instancePath, e.keyword]), [['/sources/in/type', 'enum']]);
  });

  it('has one branch per registered type, selected by `type`', () => {
    const sinks = (configJsonSchema() as { properties: { sinks: { additionalProperties: { properties: { type: { enum: string[] } }; allOf: Array<{ if: { properties: { type: { const: string } } } }> } } } })
      .properties.sinks.additionalProperties;
    assert.deepEqual(sinks.allOf.map((branch) => branch.if.properties.type.const), sinks.properties.type.enum);
    assert.ok(sinks.properties.type.enum.includes('http'));
  });
});
