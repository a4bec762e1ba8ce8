import { z } from 'zod';

const matches = (what: string) =>
  z
    .record(z.string().regex(/^[A-Z0-9_]+$/, 'journal field names are upper case, digits and _'), z.array(z.string()))
    .default({})
    .describe(what);

/** Option names follow Vector's `journald` source; the two size limits are sluice's own. */
export const journaldSchema = z.strictObject({
  journal_directory: z.string().min(1).optional().describe('Read the journal files in this directory (journalctl --directory) instead of the system journal.'),
  journalctl_path: z.string().min(1).default('journalctl').describe('The journalctl binary (looked up in PATH when it has no slash).'),
  include_units: z.array(z.string().min(1)).default([]).describe('Only these units (_SYSTEMD_UNIT); a name without a dot gets ".service". Empty: every unit.'),
  exclude_units: z.array(z.string().min(1)).default([]).describe('Never these units (_SYSTEMD_UNIT); a name without a dot gets ".service".'),
  include_matches: matches('Only entries with one of these field values (any listed field matches); include_units are merged in as _SYSTEMD_UNIT.'),
  exclude_matches: matches('Never entries with one of these field values.'),
  current_boot_only: z.boolean().default(true).describe('Only entries of the current boot (journalctl --boot).'),
  since_now: z.boolean().default(false).describe('Without a checkpoint, start at entries written from now on instead of the oldest kept.'),
  extra_args: z.array(z.string()).default([]).describe('More journalctl arguments (e.g. --merge).'),
  max_field_bytes: z.number().int().positive().default(1024 * 1024).describe('A field value is cut at this many bytes (counted as field_truncated).'),
  max_entry_bytes: z.number().int().positive().default(4 * 1024 * 1024).describe('Field values of one entry beyond this many bytes are dropped (counted).'),
});
export type JournaldConfig = z.infer<typeof journaldSchema>;
