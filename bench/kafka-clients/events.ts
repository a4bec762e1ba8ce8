// W1-like log events as the kafka sink encodes them (JSON, ~200 bytes each), deterministic.
const LEVELS = ['info', 'info', 'info', 'warn', 'error', 'debug'];
const PATHS = ['/api/v1/items', '/api/v1/cart', '/healthz', '/api/v1/users', '/static/app.js'];

export function eventValues(count: number): Buffer[] {
  const out: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const pod = i % 20;
    const fields = {
      message: `level=${LEVELS[i % LEVELS.length]} msg="GET ${PATHS[i % PATHS.length]}/${i} ${i % 7 === 0 ? 500 : 200}" dur=${(i * 13) % 900}ms`,
      timestamp: `2026-12-02T01:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}456789Z`,
      stream: i % 7 === 0 ? 'stderr' : 'stdout',
      file: `/var/log/pods/shop_web-${pod}_uid${pod}/app/0.log`,
      source_type: 'kubernetes_logs',
    };
    out[i] = Buffer.from(JSON.stringify(fields));
  }
  return out;
}
