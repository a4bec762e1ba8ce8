import { z } from 'zod';
import { tailerOptionsSchema } from '../../tailer/options.js';

export const fileSourceSchema = z.strictObject({
  /** Absolute globs of the files to read (`/var/log/app/*.log`, `/data/**\/*.log`). */
  include: z.array(z.string().min(1)).min(1),
  /** Globs of files never read, even when included. */
  exclude: z.array(z.string().min(1)).default([]),
  ...tailerOptionsSchema,
});

export type FileSourceConfig = z.infer<typeof fileSourceSchema>;
