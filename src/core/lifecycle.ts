import type { Logger } from 'pino';

/**
 * Keeps the process alive while the agent runs. Components unref their timers and watch files
 * with `persistent: false` so that they never hold a finished process open; without one ref'd
 * handle of its own, a topology of such components (a file tail, kubernetes_logs without an API)
 * lets the event loop empty and Node exits 13 on the unsettled `await`, silently.
 *
 * Also logs any exit that happens before `release()`, whatever its cause (process.exit from a
 * library, an emptied event loop), so the agent never disappears without a line on stderr.
 */
export function holdProcessOpen(logger: Logger): { release: () => void } {
  // The longest delay Node accepts; the callback only has to exist, not run.
  const handle = setInterval(() => {}, 2 ** 31 - 1);
  const onExit = (code: number): void => {
    logger.fatal({ exit_code: process.exitCode ?? code }, 'process exiting while the agent is still running');
  };
  process.on('exit', onExit);
  return {
    release: () => {
      clearInterval(handle);
      process.off('exit', onExit);
    },
  };
}

/** Logs an uncaught exception or unhandled rejection as one JSON line, then exits 1. */
export function logCrashes(logger: Logger): void {
  const crash = (error: unknown, origin: string): void => {
    const err = error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : { message: String(error) };
    logger.fatal({ err, origin }, `${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  // Explicit, so a --unhandled-rejections=warn in NODE_OPTIONS cannot turn a crash into a warning.
  process.on('unhandledRejection', (reason) => crash(reason, 'unhandledRejection'));
}
