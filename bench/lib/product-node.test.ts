import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { productNodeLaunch } from './product-node.js';

const run = promisify(execFile);

/** Allocates like a busy agent (short-lived objects, a sliding window of live ones); prints the young generation's size warm and under load. */
const CHURN = `
const v8 = require('v8');
const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const live = [];
const churn = (n) => { for (let i = 0; i < n; i++) { live.push({ i, text: 'line ' + i }); if (live.length > 20000) live.splice(0, 10000); } };
churn(200000);
const warm = young();
churn(4000000);
console.log(JSON.stringify({ warm, loaded: young() }));
`;

async function youngGeneration(flags: string[], nodeOptions: string): Promise<{ warm: number; loaded: number }> {
  const { stdout } = await run(process.execPath, [...flags, '-e', CHURN], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  return JSON.parse(stdout) as { warm: number; loaded: number };
}

describe('product node launch (Dockerfile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-product-node-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the ENTRYPOINT flags before the script and the ENV NODE_OPTIONS', () => {
    const path = join(dir, 'Dockerfile');
    writeFileSync(path, 'FROM x\nENV NODE_OPTIONS="--max-semi-space-size=4 --stack-trace-limit=5"\nENTRYPOINT ["/bin/node", "--a=1", "--b", "/app/cli.js", "--not-a-node-flag"]\n');
    assert.deepEqual(productNodeLaunch(path), { flags: ['--a=1', '--b'], nodeOptions: '--max-semi-space-size=4 --stack-trace-limit=5' });
    writeFileSync(path, 'FROM x\nENTRYPOINT ["/bin/node", "/app/cli.js"]\n');
    assert.deepEqual(productNodeLaunch(path), { flags: [], nodeOptions: '' });
    writeFileSync(path, 'FROM x\nENTRYPOINT /bin/node /app/cli.js\n');
    assert.throws(() => productNodeLaunch(path), /no ENTRYPOINT in exec form/);
  });

  it("the image's node settings are accepted by this node and keep the young generation at one size under load", async () => {
    const product = productNodeLaunch();
    // Without them, the same allocation grows the young generation (what made W4's RSS climb).
    const bare = await youngGeneration([], '');
    assert.ok(bare.loaded > bare.warm, `V8's default young generation grows under load: ${JSON.stringify(bare)}`);
    const tuned = await youngGeneration(product.flags, product.nodeOptions);
    assert.equal(tuned.loaded, tuned.warm, `young generation with ${product.flags.join(' ')} / NODE_OPTIONS=${product.nodeOptions}`);
  });
});
