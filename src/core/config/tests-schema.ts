import { z } from 'zod';

/**
 * `[[tests]]`: unit tests of the transforms, as Vector's (`sluice test`). Only their shape is
 * checked here; what they name (transform ids, outputs) and their conditions are checked by the
 * runner, which knows the topology and the condition languages.
 */
const logInputSchema = z.strictObject({
  insert_at: z.string().min(1).describe('The transform the event is fed to.'),
  type: z.literal('log'),
  log_fields: z.record(z.string(), z.unknown()).describe('The event\'s fields.'),
});

const rawInputSchema = z.strictObject({
  insert_at: z.string().min(1).describe('The transform the event is fed to.'),
  type: z.literal('raw'),
  value: z.string().describe('The event\'s `message`.'),
});

export const testInputSchema = z.discriminatedUnion('type', [logInputSchema, rawInputSchema]);

export const testConditionSchema = z.strictObject({
  type: z.enum(['vrl', 'cel']).describe('`vrl`: a VRL program whose result must be true (assertions may fail it); `cel`: a CEL expression.'),
  source: z.string().min(1).describe('The condition, evaluated on each event of the output.'),
});

export const testOutputSchema = z.strictObject({
  extract_from: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('The transform (`id`) or named output (`id.output`) whose events are checked.'),
  conditions: z.array(testConditionSchema).min(1).describe('Each must hold for at least one event of the output.'),
});

export const testSchema = z
  .strictObject({
    name: z.string().min(1),
    input: testInputSchema.optional().describe('One input (Vector\'s shorthand for `inputs` with one element).'),
    inputs: z.array(testInputSchema).default([]),
    outputs: z.array(testOutputSchema).default([]),
    no_outputs_from: z.array(z.string().min(1)).default([]).describe('Transforms or outputs that must emit nothing.'),
  })
  .refine((test) => test.input === undefined || test.inputs.length === 0, { message: 'give "input" or "inputs", not both' })
  .refine((test) => test.input !== undefined || test.inputs.length > 0, { message: 'a test needs "inputs" (or "input")' })
  .refine((test) => test.outputs.length > 0 || test.no_outputs_from.length > 0, {
    message: 'a test needs "outputs" or "no_outputs_from"',
  })
  // `inputsKey`: where the inputs were written, for messages.
  .transform(({ input, inputs, ...test }) =>
    input === undefined ? { ...test, inputs, inputsKey: 'inputs' as const } : { ...test, inputs: [input], inputsKey: 'input' as const },
  );

export const testsSchema = z.array(testSchema);

export type TestDefinition = z.output<typeof testSchema>;

/** A test as loaded: where it was defined, for messages (`file: tests.0.outputs.1`). */
export interface LoadedTest {
  readonly file: string;
  readonly index: number;
  readonly test: TestDefinition;
}
