import { readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { tightenExisting } from '../private-files.js';
import { LEGACY_POINTER_FILE, readPointer, type Position } from './disk-pointer.js';

export { fsyncDir } from './disk-pointer.js';
import { decodeRecord } from './disk-record.js';

/**
 * The disk buffer's files in its directory: numbered segment files of records, and the
 * persisted read pointer (disk-pointer.ts: the position of the first record not yet finished by
 * the sink).
 */
export type { Position };

const SEGMENT_PATTERN = /^segment-(\d{12})\.log$/;

export function segmentName(segment: number): string {
  return `segment-${String(segment).padStart(12, '0')}.log`;
}

/** Scan the log from the persisted pointer: find each segment's valid end, cut a torn tail. */
export async function recover(dir: string, onError: ((message: string) => void) | undefined) {
  const persisted = readPointer(dir);
  let pointer: Position = persisted.position ?? { segment: 1, offset: 0 };
  // Unusable: start at the oldest segment kept (segments are deleted only behind a durable pointer,
  // so nothing unfinished is lost; what was finished is sent again).
  if (persisted.problem) onError?.(persisted.position ? persisted.problem : `${persisted.problem}; replaying every segment kept`);
  let names = await readdir(dir);
  // Temporaries of the legacy pointer's write + rename, left by a crash.
  for (const name of names.filter((n) => n.startsWith(`${LEGACY_POINTER_FILE}.`) && n.endsWith('.tmp'))) await rm(join(dir, name), { force: true });
  names = names.filter((n) => !(n.startsWith(`${LEGACY_POINTER_FILE}.`) && n.endsWith('.tmp')));
  // Files written by versions that did not create them 0600 (segments, pointer, leftover temporaries).
  const untightened = await tightenExisting(dir, names);
  const segmentNumbers = names
    .map((name) => SEGMENT_PATTERN.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const segments = new Map<number, number>();
  let usedBytes = 0;
  let events = 0;
  if (segmentNumbers.length > 0 && segmentNumbers[0]! > pointer.segment) pointer = { segment: segmentNumbers[0]!, offset: 0 };
  for (const segment of segmentNumbers) {
    const path = join(dir, segmentName(segment));
    if (segment < pointer.segment) {
      await rm(path, { force: true });
      continue;
    }
    const bytes = await readFile(path);
    let offset = segment === pointer.segment ? Math.min(pointer.offset, bytes.length) : 0;
    for (;;) {
      const decoded = decodeRecord(bytes, offset);
      if (decoded.kind !== 'record') {
        if (offset < bytes.length) {
          const isLast = segment === segmentNumbers.at(-1);
          if (!isLast || decoded.kind === 'corrupt') {
            onError?.(`${segmentName(segment)}: ${decoded.kind === 'corrupt' ? decoded.why : 'truncated record'} at byte ${offset}; dropping ${bytes.length - offset} bytes after it`);
          }
          await truncate(path, offset);
        }
        break;
      }
      usedBytes += decoded.record.end - decoded.record.start;
      events += decoded.record.count;
      offset = decoded.record.end;
    }
    segments.set(segment, offset);
  }
  if (segments.size === 0) segments.set(pointer.segment, 0);
  return { pointer, segments, usedBytes, events, untightened, seq: persisted.seq, legacyPointer: persisted.legacy };
}
