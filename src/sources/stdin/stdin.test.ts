import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../../../test/harness.js';

const CLI = join(import.meta.dirname, '..', '..', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

describe('stdin source -> console sink', () => {
  it('ships every input line, in order, and exits 0 when stdin closes', () => {
    const config = join(dir.path, 'stdin.toml');
    writeFileSync(config, `data_dir = "${dir.path}"\n[sources.in]\ntype = "stdin"\n[sinks.out]\ntype = "console"\ninputs = ["in"]\nencoding.codec = "text"\n`);
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ünïcödé`);
    const result = spawnSync(process.execPath, [join(CLI), '--config', config, '--log-level', 'warn'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), lines);
  });

  it('prints JSON events with a timestamp and source_type', () => {
    const config = join(dir.path, 'stdin.yaml');
    writeFileSync(config, `data_dir: ${dir.path}\nsources: {in: {type: stdin}}\nsinks: {out: {type: console, inputs: [in]}}\n`);
    const result = spawnSync(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { input: 'hello\n', encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const event = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(event.message, 'hello');
    assert.equal(event.source_type, 'stdin');
    assert.ok(!Number.isNaN(Date.parse(event.timestamp!)));
  });
});
