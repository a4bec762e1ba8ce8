import { join } from 'node:path';
import { z } from 'zod';
import type { ComponentContext } from '../core/component.js';
import { clampMaxOpenFiles, openFilesSoftLimit } from './fd-limit.js';
import { defaultMaxWatchedDirectories } from './watch-limit.js';

/** Options every tailing source shares (Vector's names), with their defaults. */
export const tailerOptionsSchema = {
  data_dir: z
    .string()
    .min(1)
    .optional()
    .describe('Where this source keeps its checkpoints (<data_dir>/<component id>/checkpoints.json), as Vector\'s per-source data_dir. Unset: the global data_dir. Not locked against a second agent; the global data_dir is.'),
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
    .optional()
    .describe('Files open at once (default: the process RLIMIT_NOFILE minus a reserve for sinks and the API, a quarter of the limit, at most 256; 1024 where the limit is unknown). Beyond it, files idle at their end are closed (least recently active first) and reopened when written to. A value above the limit minus the reserve is lowered, with a warning.'),
  max_watched_directories: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Directories watched for file events at most (default: half of fs.inotify.max_user_watches, 8192 where unknown). New files in further directories are found by the periodic rescan only; counted as watch_limit_reached (logged once), or inotify_watches_exhausted when the kernel refuses a watch (ENOSPC); gauge sluice_source_watched_directories.',
    ),
  checkpoint_interval_secs: z
    .number()
    .positive()
    .default(1)
    .describe('How often checkpoints are written to <data_dir>/<component id>/checkpoints.json (this source\'s data_dir, else the global one) (and always at shutdown).'),
};

/** The parsed tailer options of a source. */
export type TailerConfig = z.infer<z.ZodObject<typeof tailerOptionsSchema>>;

/** The Tailer settings every tailing source derives the same way from its options. */
export function commonTailerSettings(config: TailerConfig, ctx: ComponentContext) {
  return {
    maxReadBytes: config.max_read_bytes,
    maxLineBytes: config.max_line_bytes,
    maxOpenFiles: clampMaxOpenFiles(config.max_open_files, openFilesSoftLimit(), ctx.logger),
    maxWatchedDirectories: config.max_watched_directories ?? defaultMaxWatchedDirectories(),
    scanIntervalMs: config.glob_minimum_cooldown_ms,
    readFrom: config.read_from,
    ignoreOlderSecs: config.ignore_older_secs,
    checkpointIntervalMs: config.checkpoint_interval_secs * 1000,
    checkpointPath: join(config.data_dir ?? ctx.dataDir, ctx.id, 'checkpoints.json'),
    metrics: ctx.metrics,
    logger: ctx.logger,
  };
}
