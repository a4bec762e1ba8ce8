import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runVrlRepl } from './cli.js';
import { runRepl } from './repl.js';

/** Feed lines to the REPL and collect what it printed. */
async function session(lines: string[], events = [{ message: 'a' }, { message: 'b' }]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const done = runRepl({ events, input, output });
  for (const line of lines) input.write(line + '\n');
  input.end();
  await done;
  return printed;
}

describe('sluice vrl REPL', () => {
  it('runs expressions on the current event, keeps variables and changes, moves with next/prev', async () => {
    const printed = await session(['.message', 'x = 40', '.n = x + 2', 'next', '.message', 'upcase(.message)', 'prev', '.', 'nope(', 'next', 'next']);
    const lines = printed.split('\n');
    assert.ok(lines.includes('$ "a"'), printed);
    assert.ok(lines.includes('$ 42'), printed);
    assert.ok(lines.includes('$ event 2 of 2: { "message": "b" }'), printed);
    assert.ok(lines.includes('$ "B"'), printed);
    assert.ok(lines.includes('$ { "message": "a", "n": 42 }'), printed); // the change to event 1 was kept
    assert.match(printed, /error\[E203\]: syntax error/);
    assert.match(printed, /no next event \(event 2 of 2\)/);
  });

  it('prints run-time errors and aborts, and stops at exit', async () => {
    const printed = await session(['to_int!("x")', 'abort "bye"', 'exit', '.message']);
    assert.match(printed, /error: function call error for "to_int"/);
    assert.match(printed, /aborted: bye/);
    assert.doesNotMatch(printed, /"a"\n/); // nothing ran after exit
  });

  it('keeps a compile error from earlier lines out of later ones (variables are typed by their values)', async () => {
    const printed = await session(['s = "text"', 'upcase(s)', 'n = 1', 'upcase(n)']);
    assert.match(printed, /"TEXT"/);
    assert.match(printed, /E110/);
  });

  it('needs a terminal without a program', async () => {
    const errors: string[] = [];
    const input = Object.assign(new PassThrough(), { isTTY: false });
    assert.equal(await runVrlRepl({}, { input, output: new PassThrough(), err: (l) => errors.push(l) }), 2);
    assert.match(errors.join('\n'), /give a program/);
    const cli = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'cli.js'), 'vrl'], { input: '', encoding: 'utf8' });
    assert.equal(cli.status, 2);
    assert.match(cli.stderr, /interactive REPL needs a terminal/);
  });

  it('runs on a pseudo-terminal (script(1) gives sluice vrl a tty)', () => {
    const cli = join(import.meta.dirname, '..', '..', 'cli.js');
    const result = spawnSync('script', ['-qec', `${process.execPath} ${cli} vrl`, '/dev/null'], { input: '.x = 1 + 1\n.\nexit\n', encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
    const text = result.stdout.replaceAll('\r', '');
    assert.match(text, /VRL REPL: event 1 of 1/);
    assert.match(text, /\n2\n/);
    assert.match(text, /\{ "x": 2 \}/);
  });
});
