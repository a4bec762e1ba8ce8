import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigSources } from './load.js';

export const CONFIG_WATCH_DEBOUNCE_MS = 500;

/**
 * Calls `onChange` (debounced) when a config file or a file in a config dir changes. Watches the
 * directories, not the files: editors and Kubernetes ConfigMap volumes replace a file (rename, or
 * a swap of the `..data` symlink) rather than write it, and a watch on the old inode sees nothing.
 * The handles are not persistent: the agent holds the process open, they must not.
 */
export function watchConfig(sources: ConfigSources, logger: Logger, onChange: () => void, debounceMs = CONFIG_WATCH_DEBOUNCE_MS): { close: () => void } {
  // Per directory: the names that matter there (undefined: every name, a --config-dir).
  const wanted = new Map<string, Set<string> | undefined>();
  for (const dir of sources.dirs ?? []) wanted.set(resolve(dir), undefined);
  for (const file of sources.files ?? []) {
    const dir = dirname(resolve(file));
    if (wanted.has(dir) && wanted.get(dir) === undefined) continue;
    const names = wanted.get(dir) ?? new Set<string>();
    names.add(basename(file));
    wanted.set(dir, names);
  }
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of wanted) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        const file = name?.toString();
        // `..data`, `..2024_...`: a ConfigMap/Secret volume swapping in a new version of its files.
        if (names === undefined || file === undefined || file === null || names.has(file) || file.startsWith('..')) changed();
      });
      watcher.on('error', (error) => logger.warn({ dir, err: error.message }, 'config watch failed: changes in this directory are not seen (SIGHUP still reloads)'));
      watchers.push(watcher);
    } catch (error) {
      logger.warn({ dir, err: (error as Error).message }, 'cannot watch config directory: changes in it are not seen (SIGHUP still reloads)');
    }
  }
  logger.info({ dirs: [...wanted.keys()], debounce_ms: debounceMs }, 'watching config files for changes');
  return {
    close: () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
