import { hostname } from 'node:os';
import { LogEvent } from '../../core/event.js';
import { ReadTimeClock, decodeUtf8, type DecodeStats, type LineDecoder, type TailedFileView } from '../../tailer/line-decoder.js';

const HOST = hostname();
const CARRIAGE_RETURN = 0x0d;
/** One clock for every file (it only caches the last millisecond's text): nothing per file. */
const clock = new ReadTimeClock();

/** One event per line: `message` (a trailing `\r` dropped), `timestamp` = read time, `file`, `host`. */
export class PlainLineDecoder implements LineDecoder {
  constructor(
    private readonly file: TailedFileView,
    private readonly stats: DecodeStats,
  ) {}

  decode(buf: Buffer, start: number, end: number, _lineOffset: number, out: LogEvent[]): void {
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
    out.push(
      new LogEvent({
        message: decodeUtf8(buf, start, end, this.stats),
        timestamp: clock.now(),
        file: this.file.path,
        host: HOST,
        source_type: 'file',
      }),
    );
  }

  pendingOffset(): undefined {
    return undefined;
  }

  flush(): void {}
}
