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
