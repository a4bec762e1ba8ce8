import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const dir = tempDir();
after(() => dir.cleanup());

describe('sluice CLI: regexes in conditions run on RE2', () => {
  it('filters stdin with (?i) and a ReDoS pattern, answering every line', () => {
    const config = join(dir.path, 'filter.yaml');
    writeFileSync(
      config,
      `data_dir: ${dir.path}\nsources: {in: {type: stdin}}\n` +
        `transforms: {keep: {type: filter, inputs: [in], condition: 'message.matches("(?i)error") || message.matches("^(\\\\w+\\\\s?)*$")'}}\n` +
        `sinks: {out: {type: console, inputs: [keep], encoding: {codec: text}}}\n`,
    );
    const lines = ['a'.repeat(25) + ' ' + 'b'.repeat(29) + '!', 'plain words only', 'disk ERROR!', 'warn: x'];
    // Backtracking takes 19 s or more on the first line; the timeout only stops a hung agent.
    const result = spawnSync(process.execPath, [CLI, '--config', config, '--log-level', 'warn'], { input: lines.join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['plain words only', 'disk ERROR!']);
  });

  it('validate rejects lookaround in a condition, naming file and key', () => {
    const config = join(dir.path, 'lookaround.toml');
    writeFileSync(config, `[sources.in]\ntype = "stdin"\n[transforms.f]\ntype = "filter"\ninputs = ["in"]\ncondition = 'message.matches("error(?!: ignored)")'\n[sinks.out]\ntype = "blackhole"\ninputs = ["f"]\n`);
    const result = spawnSync(process.execPath, [CLI, 'validate', '--config', config], { encoding: 'utf8' });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /lookaround\.toml: transforms\.f\.condition: invalid CEL condition: invalid regular expression "error\(\?!: ignored\)"/);
  });
});
