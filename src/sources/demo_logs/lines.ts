export type DemoFormat = 'json' | 'syslog' | 'apache_common' | 'shuffle';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const PATHS = ['/', '/login', '/api/v1/orders', '/healthz', '/static/app.js'];
const STATUSES = [200, 200, 200, 201, 304, 404, 500, 503];
const LEVELS = ['info', 'info', 'info', 'warn', 'error', 'debug'];

/** Deterministic for a given index, so tests and benchmarks are repeatable. */
export function generateLine(format: DemoFormat, index: number, lines?: readonly string[]): string {
  const pick = <T>(list: readonly T[]): T => list[(index * 7919 + 13) % list.length]!;
  const now = new Date();
  switch (format) {
    case 'shuffle':
      return pick(lines!);
    case 'json':
      return JSON.stringify({ level: pick(LEVELS), msg: `request ${index} handled`, method: pick(METHODS), path: pick(PATHS), status: pick(STATUSES), seq: index });
    case 'syslog':
      return `<${13 + (index % 8)}>1 ${now.toISOString()} demo-host app ${1000 + (index % 50)} ID${index % 100} - ${pick(LEVELS)}: event ${index}`;
    case 'apache_common':
      return `10.0.${index % 256}.${(index * 3) % 256} - - [${now.toUTCString()}] "${pick(METHODS)} ${pick(PATHS)} HTTP/1.1" ${pick(STATUSES)} ${(index * 37) % 5000}`;
  }
}
