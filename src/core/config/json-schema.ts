import { z } from 'zod';
import type { ComponentKind } from '../component.js';
import { findDefinition, knownTypes } from '../registry.js';
import { acknowledgementsSchema, globalOptionsSchema, inputsSchema, sinkCoreSchema } from './schema.js';

/** A JSON Schema node, as `z.toJSONSchema` produces it. */
export type JsonSchemaNode = Record<string, unknown>;

export const COMPONENT_KINDS: readonly ComponentKind[] = ['source', 'transform', 'sink'];

/** The config table holding each kind (`[sources.x]`, ...). */
export const KIND_TABLES: Record<ComponentKind, 'sources' | 'transforms' | 'sinks'> = { source: 'sources', transform: 'transforms', sink: 'sinks' };

/**
 * One component's options as JSON Schema: its own zod schema plus the keys the core owns
 * (`type`; `inputs` for transforms and sinks; `buffer`, `healthcheck` for sinks; `acknowledgements` for sources and sinks).
 */
export function componentJsonSchema(kind: ComponentKind, type: string): JsonSchemaNode {
  const definition = findDefinition(kind, type);
  if (!definition) throw new Error(`unknown ${kind} type "${type}"`);
  let schema = (definition.schema as z.ZodObject).extend({
    type: z.literal(type).describe(`The component type: "${type}".`),
  });
  if (kind !== 'source') schema = schema.extend({ inputs: inputsSchema });
  if (kind === 'sink') schema = schema.extend(sinkCoreSchema.partial().shape);
  // A component with its own `acknowledgements` table (splunk_hec_logs) documents it; the core still takes `enabled` in it.
  if (kind !== 'transform' && !('acknowledgements' in schema.shape)) schema = schema.extend({ acknowledgements: acknowledgementsSchema.optional() });
  const { $schema: _, ...json } = z.toJSONSchema(schema.describe(definition.description), { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  return json;
}

/** The top-level options (data_dir, api, ...), without the component tables. */
export function globalOptionsJsonSchema(): JsonSchemaNode {
  const { $schema: _, ...json } = z.toJSONSchema(globalOptionsSchema, { io: 'input' }) as JsonSchemaNode;
  return json;
}

/**
 * A component table: each entry is selected by its `type` (an `if`/`then` per type), so a
 * validator reports the wrong option of the chosen type instead of "not valid under any of the
 * given schemas" for every type it is not.
 */
function componentTable(kind: ComponentKind): JsonSchemaNode {
  const types = knownTypes(kind);
  return {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z0-9_-]+$' },
    additionalProperties: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: types, description: `The ${kind} type.` } },
      allOf: types.map((type) => ({
        if: { properties: { type: { const: type } }, required: ['type'] },
        then: componentJsonSchema(kind, type),
      })),
    },
  };
}

/** JSON Schema of the whole config, built from the same zod schemas that validate it (for docs and editors). */
export function configJsonSchema(): object {
  const globals = globalOptionsJsonSchema() as { properties: object };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'sluice configuration',
    type: 'object',
    additionalProperties: false,
    properties: { ...globals.properties, sources: componentTable('source'), transforms: componentTable('transform'), sinks: componentTable('sink') },
  };
}
