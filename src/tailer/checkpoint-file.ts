import { z } from 'zod';
import type { CheckpointRecord } from './checkpoint-store.js';

/**
 * The on-disk shape of `checkpoints.json`, checked before anything in it is trusted: a negative
 * or fractional offset would make the tailer seek to a place no line starts (the file stalls for
 * good), a record without a head hash would match no file (silently re-read from read_from).
 */
const offsetSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const recordSchema = z.object({
  dev: offsetSchema,
  ino: offsetSchema,
  head_length: offsetSchema,
  head_hash: z.string().min(1),
  offset: offsetSchema,
  path: z.string(),
  updated_at: offsetSchema,
});

const fileSchema = z.object({
  version: z.literal(1),
  checkpoints: z.record(z.string(), z.unknown()),
});

export interface InvalidRecord {
  key: string;
  /** The record as found (JSON, shortened), for the warning. */
  record: string;
  problem: string;
}

export type ParsedCheckpoints =
  | { kind: 'ok'; records: CheckpointRecord[]; invalid: InvalidRecord[] }
  /** Not JSON, or JSON that is not a checkpoint file: nothing in it can be trusted. */
  | { kind: 'unusable'; problem: string };

const RECORD_TEXT_MAX = 300;

export function parseCheckpointFile(text: string): ParsedCheckpoints {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'unusable', problem: `not JSON: ${(error as Error).message}` };
  }
  const file = fileSchema.safeParse(json);
  if (!file.success) return { kind: 'unusable', problem: `not a checkpoint file: ${describe(file.error)}` };
  const records: CheckpointRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const [key, value] of Object.entries(file.data.checkpoints)) {
    const entry = recordSchema.safeParse(value);
    if (!entry.success) {
      const shown = JSON.stringify(value) ?? String(value);
      invalid.push({ key, record: shown.length > RECORD_TEXT_MAX ? `${shown.slice(0, RECORD_TEXT_MAX)}…` : shown, problem: describe(entry.error) });
      continue;
    }
    const e = entry.data;
    records.push({
      fingerprint: { dev: e.dev, ino: e.ino, headLength: e.head_length, headHash: e.head_hash },
      offset: e.offset,
      path: e.path,
      updatedAt: e.updated_at,
    });
  }
  return { kind: 'ok', records, invalid };
}

/** `offset: Too small: expected number to be >=0; ...` */
function describe(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}
