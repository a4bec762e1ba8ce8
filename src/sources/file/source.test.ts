import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CollectingOutput, errorCount, startSource, testContext, waitFor } from '../../../test/source-driver.js';
import { fileSourceSchema } from './config.js';
import { FileSource } from './source.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-'));
  tempDirs.push(dir);
  const logs = join(dir, 'logs');
  mkdirSync(join(logs, 'nested'), { recursive: true });
  const dataDir = join(dir, 'data');
  const build = () => {
    const config = fileSourceSchema.parse({ include: [`${logs}/**/*.log`], glob_minimum_cooldown_ms: 200, ...options });
    const { ctx, metrics } = testContext(dataDir, 'files', 'file');
    return { source: new FileSource(config, ctx), metrics };
  };
  return { logs, dataDir, build };
}

test('reads included files as plain lines, skips excluded ones, follows new files', async () => {
  const { logs, build } = setup({ exclude: ['**/secret*.log'] });
  writeFileSync(join(logs, 'app.log'), 'one\r\ntwo\n');
  writeFileSync(join(logs, 'secret.log'), 'hidden\n');
  writeFileSync(join(logs, 'notes.txt'), 'not a log\n');
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 2, 'existing lines');
  writeFileSync(join(logs, 'nested', 'later.log'), 'three\n');
  await waitFor(() => out.events.length >= 3, 'new file');
  await running.stop();
  assert.deepEqual(out.messages(), ['one', 'two', 'three']);
  const first = out.events[0]!.fields;
  assert.equal(first.source_type, 'file');
  assert.equal(first.file, join(logs, 'app.log'));
  assert.equal(typeof first.host, 'string');
  assert.match(first.timestamp as string, /^\d{4}-\d\d-\d\dT/);
});

test('rename rotation (logrotate create) and copytruncate: nothing lost', async () => {
  const { logs, build } = setup({});
  const path = join(logs, 'app.log');
  writeFileSync(path, 'a1\na2\n');
  const out = new CollectingOutput();
  const { source, metrics } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 2, 'first lines');
  appendFileSync(path, 'a3\n');
  renameSync(path, `${path}.1`); // not matched by the include glob
  appendFileSync(`${path}.1`, 'a4\n'); // the writer has not reopened yet
  writeFileSync(path, 'b1\n');
  await waitFor(() => out.events.length >= 5, 'lines around the rename');
  truncateSync(path, 0);
  appendFileSync(path, 'c\n'); // shorter than before: the shrink is visible
  await waitFor(() => out.messages().includes('c'), 'line after truncation', 5000);
  await running.stop();
  assert.deepEqual(out.messages().sort(), ['a1', 'a2', 'a3', 'a4', 'b1', 'c']);
  assert.equal(await errorCount(metrics, 'file_truncated'), 1);
});

test('restart resumes after the acknowledged lines', async () => {
  const { logs, build } = setup({});
  const path = join(logs, 'app.log');
  writeFileSync(path, 'l1\nl2\nl3\n');
  const out1 = new CollectingOutput();
  let running = startSource(build().source, out1);
  await waitFor(() => out1.events.length >= 3, 'first run');
  await running.stop();
  appendFileSync(path, 'l4\n');
  const out2 = new CollectingOutput();
  running = startSource(build().source, out2);
  await waitFor(() => out2.events.length >= 1, 'second run');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.stop();
  assert.deepEqual(out2.messages(), ['l4']);
});

test('a per-source data_dir holds the checkpoints instead of the global one', async () => {
  const own = mkdtempSync(join(tmpdir(), 'sluice-file-own-'));
  tempDirs.push(own);
  const { logs, dataDir, build } = setup({ data_dir: own });
  writeFileSync(join(logs, 'app.log'), 'one\n');
  const out = new CollectingOutput();
  const { source } = build();
  const running = startSource(source, out);
  await waitFor(() => out.events.length >= 1, 'the line');
  await running.stop();
  assert.ok(existsSync(join(own, 'files', 'checkpoints.json')), 'checkpoints under the source data_dir');
  assert.ok(!existsSync(join(dataDir, 'files', 'checkpoints.json')), 'none under the global data_dir');
});
