import { z } from 'zod';

/** Options every tailing source shares (Vector's names), with their defaults. */
export const tailerOptionsSchema = {
  /** Physical lines longer than this are cut: the head is kept, the rest of the line skipped (counted). */
  max_line_bytes: z.number().int().min(256).default(1024 * 1024),
  /** Bytes read from one file per turn: files take turns, so 100 busy files share fairly. */
  max_read_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(128 * 1024),
  /** Full rescan period; fs events find new files sooner. */
  glob_minimum_cooldown_ms: z.number().int().min(10).default(5000),
  /** Where files without a checkpoint, found at startup, start. Files appearing later start at their beginning. */
  read_from: z.enum(['beginning', 'end']).default('beginning'),
  /** Files without a checkpoint last modified longer ago than this are not read. */
  ignore_older_secs: z.number().int().positive().optional(),
  /** Files open at once; beyond it, files idle at their end are closed and reopened when written. */
  max_open_files: z.number().int().min(1).default(1024),
  /** How often checkpoints are written (and always at shutdown). */
  checkpoint_interval_secs: z.number().positive().default(1),
};

export type TailerConfig = {
  max_line_bytes: number;
  max_read_bytes: number;
  glob_minimum_cooldown_ms: number;
  read_from: 'beginning' | 'end';
  ignore_older_secs?: number | undefined;
  max_open_files: number;
  checkpoint_interval_secs: number;
};
