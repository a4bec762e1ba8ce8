import { z } from 'zod';

/** Options every tailing source shares (Vector's names), with their defaults. */
export const tailerOptionsSchema = {
  max_line_bytes: z
    .number()
    .int()
    .min(256)
    .default(1024 * 1024)
    .describe('Physical lines longer than this are cut: the first max_line_bytes are kept, the rest of the line is skipped (counted as line_too_long).'),
  max_read_bytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(128 * 1024)
    .describe('Bytes read from one file per turn; files take turns, so many busy files share the reader fairly.'),
  glob_minimum_cooldown_ms: z
    .number()
    .int()
    .min(10)
    .default(5000)
    .describe('Period of the full rescan of the directories; filesystem events find new files much sooner.'),
  read_from: z
    .enum(['beginning', 'end'])
    .default('beginning')
    .describe('Where files without a checkpoint found at startup start; files appearing later are always read from their beginning.'),
  ignore_older_secs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Files without a checkpoint last modified longer ago than this are not read (until they are written again).'),
  max_open_files: z
    .number()
    .int()
    .min(1)
    .default(1024)
    .describe('Files open at once; beyond it, files idle at their end are closed and reopened when written to.'),
  checkpoint_interval_secs: z
    .number()
    .positive()
    .default(1)
    .describe('How often checkpoints are written to <data_dir>/<component id>/checkpoints.json (and always at shutdown).'),
};
