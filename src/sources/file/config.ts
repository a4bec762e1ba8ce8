import { z } from 'zod';
import { tailerOptionsSchema } from '../../tailer/options.js';

export const fileSourceSchema = z.strictObject({
  include: z.array(z.string().min(1)).min(1).describe('Absolute globs of the files to read, e.g. /var/log/app/*.log or /data/**/*.log.'),
  exclude: z.array(z.string().min(1)).default([]).describe('Globs of files never read, even when included.'),
  ...tailerOptionsSchema,
});

export type FileSourceConfig = z.infer<typeof fileSourceSchema>;
