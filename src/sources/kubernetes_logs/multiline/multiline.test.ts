import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogEvent } from '../../../core/event.js';
import { MultilineJoiner } from './joiner.js';
import { multilineRules } from './rules.js';

/** Joins `lines` (one stream) with `rules`; returns the messages of the events, in order. */
function join(rules: string, lines: string[], limits = { maxLines: 1000, maxBytes: 1 << 20, timeoutMs: 1000 }): string[] {
  const counts = { limitHits: 0, timeouts: 0 };
  const joiner = new MultilineJoiner(limits, counts);
  const out: LogEvent[] = [];
  lines.forEach((line, i) => joiner.push(new LogEvent({ message: line, stream: 'stdout' }), i * 100, multilineRules(rules), 0, out));
  joiner.flush(out);
  return out.map((e) => e.fields.message as string);
}

const JAVA = [
  'Exception in thread "main" java.lang.IllegalStateException: outer',
  '\tat com.example.App.run(App.java:42)',
  '\tat com.example.App.main(App.java:7)',
  'Caused by: java.lang.NullPointerException: inner',
  '\tat com.example.Dao.load(Dao.java:13)',
  '\t... 2 more',
];

const PYTHON = [
  'Traceback (most recent call last):',
  '  File "/app/main.py", line 10, in <module>',
  '    main()',
  '  File "/app/main.py", line 6, in main',
  '    raise KeyError("id")',
  "KeyError: 'id'",
];

const GO = [
  'panic: runtime error: index out of range [3] with length 3',
  '',
  'goroutine 1 [running]:',
  'main.lookup(...)',
  '\t/app/main.go:12',
  'main.main()',
  '\t/app/main.go:7 +0x1d',
  'exit status 2',
];

const DOTNET = [
  'Unhandled exception. System.InvalidOperationException: Sequence contains no elements',
  ' ---> System.ArgumentException: bad id',
  '   at Shop.Orders.Find(Int32 id) in /src/Orders.cs:line 20',
  '   --- End of inner exception stack trace ---',
  '   at Shop.Program.Main(String[] args) in /src/Program.cs:line 9',
];

describe('multiline rules', () => {
  it('java: exception, frames, Caused by, "... n more" join; lines around stay apart', () => {
    assert.deepEqual(join('java', ['starting', ...JAVA, 'next request']), ['starting', JAVA.join('\n'), 'next request']);
    // A log line naming an Error with a colon starts a trace; two traces in a row stay two events.
    const second = ['12:00:01 ERROR c.e.Job - java.io.IOException: disk full', '\tat c.e.Job.write(Job.java:3)'];
    assert.deepEqual(join('java', [...JAVA, ...second]), [JAVA.join('\n'), second.join('\n')]);
  });

  it('python: a traceback ends at its exception line; each traceback of a chain is one event', () => {
    assert.deepEqual(join('python', ['before', ...PYTHON, 'after']), ['before', PYTHON.join('\n'), 'after']);
    const chained = [
      ...PYTHON,
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/app/main.py", line 12, in <module>',
      '    fallback()',
      'RuntimeError: no fallback',
    ];
    // The exception line completes a traceback (as Fluent Bit): the sentence between two stands alone.
    assert.deepEqual(join('python', chained), [PYTHON.join('\n'), '', 'During handling of the above exception, another exception occurred:', '', chained.slice(9).join('\n')]);
  });

  it('go: a panic with its goroutine frames; the exit line stays apart', () => {
    assert.deepEqual(join('go', ['serving', ...GO]), ['serving', GO.slice(0, 7).join('\n'), 'exit status 2']);
  });

  it('dotnet: inner exceptions and frames join', () => {
    assert.deepEqual(join('dotnet', [...DOTNET, 'info: Shop.Program[0] next']), [DOTNET.join('\n'), 'info: Shop.Program[0] next']);
  });

  it('a pattern: each line matching it starts an event, the others join the one before (lines before the first stand alone)', () => {
    const lines = ['  orphan', '2026-01-01 ERROR boom', '  detail 1', '  detail 2', '2026-01-01 INFO ok'];
    assert.deepEqual(join('^\\d{4}-\\d{2}-\\d{2} ', lines), ['  orphan', '2026-01-01 ERROR boom\n  detail 1\n  detail 2', '2026-01-01 INFO ok']);
  });

  it('an invalid pattern is an error naming RE2 (a pod cannot get a backtracking regex)', () => {
    assert.throws(() => multilineRules('^(?=x)'), /RE2/);
  });
});

describe('multiline joiner', () => {
  it('per stream: interleaved stdout and stderr join apart; pendingOffset is the earliest open group', () => {
    const joiner = new MultilineJoiner({ maxLines: 100, maxBytes: 1 << 20, timeoutMs: 1000 }, { limitHits: 0, timeouts: 0 });
    const rules = multilineRules('java');
    const out: LogEvent[] = [];
    const push = (stream: string, message: string, offset: number) => joiner.push(new LogEvent({ message, stream }), offset, rules, 0, out);
    push('stdout', 'java.lang.RuntimeException: a', 0);
    push('stderr', 'java.lang.IllegalStateException: b', 50);
    push('stdout', '\tat A.a(A.java:1)', 100);
    push('stderr', '\tat B.b(B.java:2)', 150);
    assert.equal(joiner.pendingOffset(), 0);
    push('stdout', 'plain', 200);
    assert.deepEqual(out.map((e) => e.fields.message), ['java.lang.RuntimeException: a\n\tat A.a(A.java:1)', 'plain']);
    assert.equal(joiner.pendingOffset(), 50, 'stderr group still open');
    joiner.flush(out);
    assert.equal(out[2]!.fields.message, 'java.lang.IllegalStateException: b\n\tat B.b(B.java:2)');
    assert.equal(out[2]!.fields.stream, 'stderr');
    assert.equal(joiner.pendingOffset(), undefined);
  });

  it('bounded: max_lines and max_bytes cut a group (counted), the rest goes on as the next event; timeout_ms emits a quiet group', () => {
    const counts = { limitHits: 0, timeouts: 0 };
    const trace = ['java.lang.RuntimeException: x', ...Array.from({ length: 9 }, (_, i) => `\tat F.f${i}(F.java:${i})`)];
    assert.deepEqual(join('java', trace, { maxLines: 4, maxBytes: 1 << 20, timeoutMs: 1000 }), [
      trace.slice(0, 4).join('\n'),
      trace.slice(4, 8).join('\n'),
      trace.slice(8).join('\n'),
    ]);
    const long = ['java.lang.RuntimeException: x', `\tat ${'y'.repeat(600)}`, `\tat ${'z'.repeat(600)}`];
    assert.deepEqual(join('java', long, { maxLines: 100, maxBytes: 1024, timeoutMs: 1000 }), [long.slice(0, 2).join('\n'), long[2]]);

    const joiner = new MultilineJoiner({ maxLines: 100, maxBytes: 1 << 20, timeoutMs: 1000 }, counts);
    const out: LogEvent[] = [];
    joiner.push(new LogEvent({ message: trace[0] }), 0, multilineRules('java'), 5000, out);
    joiner.flush(out, 5999);
    assert.equal(out.length, 0);
    joiner.flush(out, 6000);
    assert.deepEqual(out.map((e) => e.fields.message), [trace[0]]);
    assert.equal(counts.timeouts, 1);
  });
});
