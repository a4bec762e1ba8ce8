/** The process's exit codes (README: "Exit codes"). A module of its own so light commands need not load the agent. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  config: 78,
  shutdownTimeout: 124,
} as const;
