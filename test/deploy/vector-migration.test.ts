import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import '../../src/components.js';
import { componentJsonSchema } from '../../src/core/config/json-schema.js';
import type { ComponentKind } from '../../src/core/component.js';
import { VECTOR_OPTIONS } from './vector-options.js';

// docs/migrating-from-vector.md against Vector's option lists (vector-options.ts) and sluice's own
// schema: a section `### <kind>.<type>` per component, whose table names (first column, in
// backticks) exactly the Vector options sluice does not take. Nested names (`encoding.x`) are
// extra notes and not checked against the schema.

const DOC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'migrating-from-vector.md'), 'utf8');
const KIND: Record<string, ComponentKind> = { sources: 'source', transforms: 'transform', sinks: 'sink' };

/** The top-level option names in the first column of the table under `### <heading>`. */
function documentedOptions(heading: string): string[] | undefined {
  const start = DOC.indexOf(`\n### ${heading}\n`);
  if (start < 0) return undefined;
  const end = DOC.slice(start + 1).search(/\n##/);
  const section = end < 0 ? DOC.slice(start) : DOC.slice(start, start + 1 + end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const firstCell = line.split('|')[1]!;
    for (const match of firstCell.matchAll(/`([a-z0-9_.]+)`/g)) if (!match[1]!.includes('.')) names.push(match[1]!);
  }
  return names;
}

function sluiceOptions(kind: ComponentKind, type: string): Set<string> {
  const schema = componentJsonSchema(kind, type) as { properties?: Record<string, unknown> };
  return new Set(Object.keys(schema.properties ?? {}));
}

describe('docs/migrating-from-vector.md against Vector\'s option lists', () => {
  for (const component of VECTOR_OPTIONS) {
    const heading = `${component.kind}.${component.type}`;
    it(`${heading}: every Vector option sluice lacks has a row, and no row names one it takes`, () => {
      const taken = sluiceOptions(KIND[component.kind]!, component.type);
      const lacking = component.options.filter((option) => !taken.has(option)).sort();
      const documented = documentedOptions(heading);
      if (lacking.length === 0) {
        assert.ok(documented === undefined || documented.length === 0, `${heading}: sluice takes every Vector option; the rows for ${documented} are stale`);
        return;
      }
      assert.ok(documented, `no "### ${heading}" section, but sluice lacks ${lacking.join(', ')}`);
      assert.deepEqual([...new Set(documented)].sort(), lacking);
    });
  }

  it('every component section names a component of the option lists', () => {
    const listed = new Set(VECTOR_OPTIONS.map((c) => `${c.kind}.${c.type}`));
    for (const match of DOC.matchAll(/\n### ((?:sources|transforms|sinks)\.[a-z0-9_]+)\n/g)) assert.ok(listed.has(match[1]!), `${match[1]} has no Vector option list in vector-options.ts`);
  });
});
