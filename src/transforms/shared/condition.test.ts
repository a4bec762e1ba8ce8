import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { compileCondition, conditionSchema } from './condition.js';

const event = { message: 'ERROR: disk full', status: 503, bytes: 2048.5, stream: 'stderr', kubernetes: { pod_namespace: 'payments', pod_labels: { app: 'api' } } };

describe('CEL conditions', () => {
  const cases: Array<[string, boolean]> = [
    ['kubernetes.pod_namespace == "payments"', true],
    ['kubernetes.pod_namespace != "payments"', false],
    ['message.matches("^ERROR")', true],
    ['message.matches("(?i)warn")', false],
    ['message.matches("(?i)error: DISK")', true],
    ['message.matches(stream + "|nomatch")', false],
    ['message.matches("(?i)" + stream.substring(3))', true],
    ['message.matches("^" + "ERROR")', true],
    ['has(kubernetes.pod_labels.app)', true],
    ['has(kubernetes.pod_labels.canary)', false],
    ['status >= 500 && status < 600', true],
    ['status % 100 == 3', true],
    ['event.bytes / 1024 > 2', true],
    ['event.kubernetes.pod_namespace == "payments" && event.status == 503', true],
    ['!(stream == "stdout") || false', true],
    ['status in [500, 503]', true],
    ['kubernetes.missing == "x"', false],
    ['no_such_field > 1', false],
  ];
  for (const [expression, expected] of cases) {
    it(`${expression} -> ${expected}`, () => assert.equal(compileCondition(expression)(event), expected));
  }

  it('rejects a syntax error at validation time', () => {
    const result = conditionSchema.safeParse('status >=');
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /invalid CEL condition/);
  });

  it('reports evaluation errors other than missing fields and evaluates to false', () => {
    const errors: Error[] = [];
    assert.equal(compileCondition('message + 1 == 2', (e) => errors.push(e))(event), false);
    assert.equal(errors.length, 1);
  });

  it('matches with RE2: `(?i)error` finds ERROR (JS RegExp throws on `(?i)`)', () => {
    assert.equal(compileCondition('message.matches("(?i)error")')({ message: 'disk ERROR' }), true);
  });

  it('rejects lookaround or a backreference in a literal pattern at validation time', () => {
    for (const source of ['message.matches("a(?=b)")', 'message.matches("(a)\\\\1")']) {
      const result = conditionSchema.safeParse(source);
      assert.equal(result.success, false, source);
      assert.match(result.error!.issues[0]!.message, /invalid CEL condition: invalid regular expression .*RE2 syntax/);
    }
  });

  it('reports a bad pattern built at run time and evaluates to false', () => {
    const errors: Error[] = [];
    assert.equal(compileCondition('message.matches(pattern)', (e) => errors.push(e))({ message: 'ab', pattern: 'a(?=b)' }), false);
    assert.match(errors[0]!.message, /invalid regular expression/);
  });

  it('answers the ReDoS pattern on a 56-byte line (backtracking would hang the worker)', async () => {
    const line = 'a'.repeat(25) + ' ' + 'b'.repeat(29) + '!';
    assert.equal(Buffer.byteLength(line), 56);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.module).then(({ compileCondition }) =>
         parentPort.postMessage(workerData.lines.map((message) => compileCondition(workerData.source)({ message }))));`,
      { eval: true, workerData: { module: new URL('./condition.js', import.meta.url).href, source: 'message.matches("^(\\\\w+\\\\s?)*$")', lines: [line, line.slice(0, -1)] } },
    );
    // Generous: RE2 answers in milliseconds; JS RegExp takes 19 s or far more on this line.
    const timer = setTimeout(() => void worker.terminate(), 15_000);
    try {
      const answer = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`worker stopped (${code}) before answering`)));
      });
      assert.deepEqual(answer, [false, true]);
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  });
});
