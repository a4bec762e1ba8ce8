import { z } from 'zod';
import type { ComponentKind } from '../component.js';
import { findDefinition, knownTypes } from '../registry.js';
import { globalOptionsSchema, inputsSchema, sinkCoreSchema } from './schema.js';

/** JSON Schema of the whole config, built from the same zod schemas that validate it (for docs and editors). */
export function configJsonSchema(): object {
  const table = (kind: ComponentKind): object => {
    const variants = knownTypes(kind).map((type) => {
      const definition = findDefinition(kind, type)!;
      let schema = (definition.schema as z.ZodObject).extend({ type: z.literal(type) });
      if (kind !== 'source') schema = schema.extend({ inputs: inputsSchema });
      if (kind === 'sink') schema = schema.extend(sinkCoreSchema.partial().shape);
      return z.toJSONSchema(schema.describe(definition.description), { io: 'input', unrepresentable: 'any' });
    });
    return { type: 'object', additionalProperties: { oneOf: variants } };
  };
  const globals = z.toJSONSchema(globalOptionsSchema, { io: 'input' }) as { properties: object };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'sluice configuration',
    type: 'object',
    additionalProperties: false,
    properties: { ...globals.properties, sources: table('source'), transforms: table('transform'), sinks: table('sink') },
  };
}
