import { z } from 'zod';
import { registerSink } from '../../core/registry.js';
import { encodingSchema } from '../shared/encoding.js';
import { templateString } from '../shared/schemas.js';
import { FileSink } from './sink.js';

export const fileSinkSchema = z.strictObject({
  path: templateString(z.string().min(1), { strftime: true })
    .describe('Output path; may use field templates and strftime directives from the event timestamp (UTC), e.g. /out/{{ kubernetes.pod_namespace }}-%Y-%m-%d.ndjson. An event missing a referenced field is dropped (counted as discarded, reason template_field_missing, and logged naming the field). In a rendered value "/" and NUL become "_" and a value "." or ".." becomes underscores; an event whose path resolves outside the part before the first {{ or % is rejected.'),
  encoding: encodingSchema.default({ codec: 'json' }).describe('Which fields of each event are written and how (one line per event).'),
  compression: z.enum(['none', 'gzip']).default('none').describe('gzip appends one gzip member per batch (a valid multi-member .gz).'),
  idle_timeout_secs: z.number().positive().default(30).describe('Close a file after this long without writes.'),
  max_open_files: z
    .number()
    .int()
    .positive()
    .default(256)
    .describe('Most files kept open at once (templated paths); opening one more closes the least recently written file first.'),
  fsync: z.boolean().default(false).describe('fsync before acknowledging (survives a node crash, costs throughput).'),
});
export type FileSinkOptions = z.infer<typeof fileSinkSchema>;

registerSink({
  type: 'file',
  description: 'Writes events to files (one JSON object or text line per event), path templated by fields.',
  schema: fileSinkSchema,
  build: (config, ctx) => new FileSink(config, ctx),
});
