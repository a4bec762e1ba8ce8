import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Modes of everything the agent keeps in its data directory. The data directory is usually a
 * hostPath: checkpoints name every pod's log files and disk buffers hold log lines, so nothing
 * there is for other users of the node.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * `mkdir -p` creating missing levels 0700; `dir` itself, if it existed with wider bits, is
 * tightened. Returns the paths that could not be tightened (not ours, a read-only volume): worth
 * a warning, not a reason to stop collecting logs.
 */
export async function makePrivateDir(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  return tighten([dir], PRIVATE_DIR_MODE);
}

/**
 * Tightens existing `dir` and its files `names` that have group or other bits (left by older
 * versions); missing ones are skipped. Returns what could not be tightened, like `makePrivateDir`.
 */
export async function tightenExisting(dir: string, names: readonly string[]): Promise<string[]> {
  const failed = await tighten([dir], PRIVATE_DIR_MODE);
  failed.push(
    ...(await tighten(
      names.map((name) => join(dir, name)),
      PRIVATE_FILE_MODE,
    )),
  );
  return failed;
}

async function tighten(paths: readonly string[], mode: number): Promise<string[]> {
  const failed: string[] = [];
  for (const path of paths) {
    try {
      if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') failed.push(`${path}: ${code ?? (error as Error).message}`);
    }
  }
  return failed;
}
