import { Option } from 'commander';

export const DEFAULT_API_URL = 'http://127.0.0.1:8686';

/** `--url`, shared by the commands that talk to a running agent's API. */
export const urlOption = (): Option =>
  new Option('--url <url>', "the agent's API (its [api] address)").default(DEFAULT_API_URL).env('SLUICE_API_URL');

/** `http://host:port` + `/path`, whatever trailing slash the user typed. */
export function endpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

/** One line for an unreachable API: the URL and the cause, not a stack. */
export function unreachable(command: string, url: URL, error: Error): string {
  const cause = (error as Error & { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException);
  const code = (cause as NodeJS.ErrnoException).code;
  return `sluice ${command}: cannot reach the agent API at ${url.origin}: ${code ?? cause.message}${code === 'ECONNREFUSED' ? ' (is the agent running with [api] enabled on that address?)' : ''}\n`;
}
