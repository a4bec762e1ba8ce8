import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addLogRecordListener, createLogger } from './logger.js';

describe('log record listeners', () => {
  it('get each record as its JSON line, in both formats, until they unsubscribe', () => {
    const lines: string[] = [];
    const unsubscribe = addLogRecordListener((line) => lines.push(line));
    try {
      createLogger('info', 'json').child({ component_id: 'x' }).info({ n: 1 }, 'first');
      createLogger('info', 'text').warn('second');
      createLogger('info', 'json').debug('below the level');
    } finally {
      unsubscribe();
    }
    createLogger('info', 'json').info('after unsubscribe');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.msg, r.level]),
      [
        ['first', 'info'],
        ['second', 'warn'],
      ],
    );
    assert.equal(records[0]!.component_id, 'x');
    assert.equal(records[0]!.n, 1);
    assert.equal(records[0]!.pid, process.pid);
  });

  it('a throwing listener does not break logging or the other listeners', () => {
    const seen: string[] = [];
    const offBad = addLogRecordListener(() => {
      throw new Error('boom');
    });
    const offGood = addLogRecordListener((line) => seen.push(line));
    try {
      assert.doesNotThrow(() => createLogger('info').info('still logged'));
    } finally {
      offBad();
      offGood();
    }
    assert.equal(seen.length, 1);
  });
});
