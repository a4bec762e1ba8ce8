import { closeSync, openSync, statSync } from 'node:fs';
import { z } from 'zod';

/**
 * Checks of the machine the config is loaded on (files exist and can be read). They run by
 * default, as the agent would hit the same problem on start; `sluice validate --no-environment`
 * turns them off to validate a config away from its node (in CI). A flag rather than a zod
 * context because zod passes none to refinements; config loading is synchronous, so the flag
 * holds for exactly one load.
 */
let environmentChecks = true;

export function withEnvironmentChecks<T>(enabled: boolean, load: () => T): T {
  const previous = environmentChecks;
  environmentChecks = enabled;
  try {
    return load();
  } finally {
    environmentChecks = previous;
  }
}

/** A path option naming a file the component reads: it must exist and be readable (unless checks are off). */
export function readableFile(schema: z.ZodString = z.string().min(1)) {
  return schema.superRefine((path, ctx) => {
    if (!environmentChecks) return;
    const problem = unreadableFile(path);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${problem} (a check of this machine: validate --no-environment skips it)` });
  });
}

/** Why `path` cannot be read as a file, or undefined. Opens it: as the agent would, permissions and all. */
export function unreadableFile(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `"${path}" is not a file`;
    closeSync(openSync(path, 'r'));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `"${path}" does not exist`;
    if (code === 'EACCES' || code === 'EPERM') return `cannot read "${path}": permission denied`;
    return `cannot read "${path}": ${code ?? (error as Error).message}`;
  }
}
