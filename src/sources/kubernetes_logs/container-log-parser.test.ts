import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedLine, parseContainerLogLine } from './container-log-parser.js';

interface Expected {
  stream: 'stdout' | 'stderr';
  partial: boolean;
  timestamp: string;
  message: string;
}

function parse(line: string): Expected | undefined {
  // Surround the line with other bytes: parsing must stay inside [start, end).
  const buf = Buffer.from(`xx${line}\n{"log":"next\\n"} 2016-10-20T18:39:20Z stdout F next`);
  const start = 2;
  const end = start + Buffer.byteLength(line);
  const out = new ParsedLine();
  if (!parseContainerLogLine(buf, start, end, out)) return undefined;
  const message = out.messageText ?? buf.toString('utf8', out.messageStart, out.messageEnd);
  return { stream: out.stream, partial: out.partial, timestamp: out.timestamp, message };
}

const TS = '2016-10-20T18:39:20.57606443Z';

// Cases from kubelet's TestParseLog (pkg/kubelet/kuberuntime/logs), plus edge cases around them.
const table: Array<[string, string, Expected | undefined]> = [
  ['docker stdout', `{"log":"docker stdout test log","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: true, timestamp: TS, message: 'docker stdout test log' }],
  ['docker stderr', `{"log":"docker stderr test log","stream":"stderr","time":"${TS}"}`, { stream: 'stderr', partial: true, timestamp: TS, message: 'docker stderr test log' }],
  ['docker full line', `{"log":"hello\\n","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: false, timestamp: TS, message: 'hello' }],
  ['docker escapes', `{"log":"say \\"hi\\"\\t\\\\ \\u00e9\\n","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: false, timestamp: TS, message: 'say "hi"\t\\ é' }],
  ['docker escaped quote before end', `{"log":"a\\\\","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: true, timestamp: TS, message: 'a\\' }],
  ['docker empty line', `{"log":"\\n","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: false, timestamp: TS, message: '' }],
  ['docker other key order', `{"stream":"stderr","log":"x\\n","time":"${TS}"}`, { stream: 'stderr', partial: false, timestamp: TS, message: 'x' }],
  ['docker with attrs', `{"log":"x\\n","stream":"stdout","attrs":{"a":"b"},"time":"${TS}"}`, { stream: 'stdout', partial: false, timestamp: TS, message: 'x' }],
  ['docker utf-8', `{"log":"héllo wörld\\n","stream":"stdout","time":"${TS}"}`, { stream: 'stdout', partial: false, timestamp: TS, message: 'héllo wörld' }],
  ['docker bad stream', `{"log":"x\\n","stream":"stdin","time":"${TS}"}`, undefined],
  ['docker not json', `{"log":"x\\n","stream":"stdout"`, undefined],
  ['docker no log key', `{"stream":"stdout","time":"${TS}"}`, undefined],
  ['cri stdout full', `${TS} stdout F cri stdout test log`, { stream: 'stdout', partial: false, timestamp: TS, message: 'cri stdout test log' }],
  ['cri stderr full', `${TS} stderr F cri stderr test log`, { stream: 'stderr', partial: false, timestamp: TS, message: 'cri stderr test log' }],
  ['cri partial', `${TS} stdout P cri stdout partial test log`, { stream: 'stdout', partial: true, timestamp: TS, message: 'cri stdout partial test log' }],
  ['cri partial with tags', `${TS} stdout P:TAG1:TAG2 cri stdout partial test log`, { stream: 'stdout', partial: true, timestamp: TS, message: 'cri stdout partial test log' }],
  ['cri full with tags', `${TS} stdout F:TAG1 x`, { stream: 'stdout', partial: false, timestamp: TS, message: 'x' }],
  ['cri unknown tag is full', `${TS} stdout X x`, { stream: 'stdout', partial: false, timestamp: TS, message: 'x' }],
  ['cri tag starting with P is not partial', `${TS} stdout PX x`, { stream: 'stdout', partial: false, timestamp: TS, message: 'x' }],
  ['cri message keeps spaces', `${TS} stdout F  two  spaces `, { stream: 'stdout', partial: false, timestamp: TS, message: ' two  spaces ' }],
  ['cri empty message', `${TS} stdout F `, { stream: 'stdout', partial: false, timestamp: TS, message: '' }],
  ['cri no space after tag (lenient)', `${TS} stdout F`, { stream: 'stdout', partial: false, timestamp: TS, message: '' }],
  ['cri nanosecond timestamp with offset', `2024-01-02T03:04:05.123456789+01:00 stdout F z`, { stream: 'stdout', partial: false, timestamp: '2024-01-02T03:04:05.123456789+01:00', message: 'z' }],
  ['cri bad stream', `${TS} stdin F x`, undefined],
  ['cri no tag', `${TS} stdout`, undefined],
  ['cri bad timestamp', `yesterday stdout F x`, undefined],
  ['unsupported', 'unsupported log format test log', undefined],
  ['empty', '', undefined],
];

for (const [name, line, expected] of table) {
  test(`parse: ${name}`, () => {
    assert.deepEqual(parse(line), expected);
  });
}

// Timestamps: what kubelet's time.Parse(time.RFC3339Nano, …) accepts parses; anything else makes
// the line malformed, in CRI and in both Docker paths (the fast layout and the generic JSON parse).
const goodStamps = [
  '2026-01-02T03:04:05Z',
  '2026-01-02T03:04:05.1Z',
  '2026-01-02T03:04:05.123456789Z',
  '2026-01-02T03:04:05+01:00',
  '2026-01-02T03:04:05.5-07:30',
  '2024-02-29T23:59:59.000000001+14:00',
  '0000-12-31T00:00:00Z',
];
const badStamps = [
  'qwerty',
  '123',
  '2026-01-02t03:04:05Z', // lowercase t
  '2026-01-02T03:04:05z', // lowercase z
  '2026-01-02T03:04:05+0100', // offset without colon
  '2026-01-02T03:04:05.123+0100',
  '2026-01-02T03:04:05', // no offset
  '2026-01-02T03:04:05.Z', // dot without digits
  '2026-01-02T03:04:05.1234567890Z', // 10 fraction digits
  '2026-01-02T03:04:05.12a4Z',
  '2026-01-02T03:04:05Zjunk',
  '2026-01-02T03:04:05+01:00:00',
  '2026-13-02T03:04:05Z',
  '2026-00-02T03:04:05Z',
  '2026-02-29T03:04:05Z', // not a leap year
  '2026-04-31T03:04:05Z',
  '2026-01-00T03:04:05Z',
  '2026-01-02T24:00:00Z',
  '2026-01-02T03:60:05Z',
  '2026-01-02T03:04:60Z', // Go rejects leap seconds too
  '2026-01-02T03:04:05+24:00',
  '2026-01-02T03:04:05+01:60',
  '2026-1-02T03:04:05.000Z',
  '20x6-01-02T03:04:05Z',
  '2026-01-02T03:04:05\u0130Z', // not ASCII
  '2026_01_02T03:04:05Z',
  'yyyy-mm-ddThh:mm:ssZ',
];

for (const stamp of goodStamps) {
  test(`timestamp accepted: ${stamp}`, () => {
    const expected = (message: string, partial = false) => ({ stream: 'stdout' as const, partial, timestamp: stamp, message });
    assert.deepEqual(parse(`${stamp} stdout F ok`), expected('ok'));
    assert.deepEqual(parse(`{"log":"ok\\n","stream":"stdout","time":"${stamp}"}`), expected('ok'));
    assert.deepEqual(parse(`{"stream":"stdout","log":"ok\\n","time":"${stamp}"}`), expected('ok'));
  });
}

for (const stamp of badStamps) {
  test(`timestamp rejected, line malformed: ${stamp}`, () => {
    assert.equal(parse(`${stamp} stdout F x`), undefined, 'cri');
    assert.equal(parse(`{"log":"x\\n","stream":"stdout","time":"${stamp}"}`), undefined, 'docker');
    assert.equal(parse(`{"time":"${stamp}","log":"x\\n","stream":"stdout"}`), undefined, 'docker, other key order');
  });
}
