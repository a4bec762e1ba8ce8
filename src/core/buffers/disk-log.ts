import { open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { tightenExisting } from '../private-files.js';
import { decodeRecord } from './disk-record.js';

/**
 * The disk buffer's files in its directory: numbered segment files of records, and the
 * persisted read pointer (the position of the first record not yet finished by the sink).
 */
export interface Position {
  segment: number;
  offset: number;
}

export const POINTER_FILE = 'ack-pointer.json';
const SEGMENT_PATTERN = /^segment-(\d{12})\.log$/;

export function segmentName(segment: number): string {
  return `segment-${String(segment).padStart(12, '0')}.log`;
}

/** Scan the log from the persisted pointer: find each segment's valid end, cut a torn tail. */
export async function recover(dir: string, onError: ((message: string) => void) | undefined) {
  let pointer: Position = { segment: 1, offset: 0 };
  try {
    pointer = JSON.parse(await readFile(join(dir, POINTER_FILE), 'utf8')) as Position;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError?.(`unreadable ${POINTER_FILE}, replaying the whole log: ${(error as Error).message}`);
  }
  const names = await readdir(dir);
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
  return { pointer, segments, usedBytes, events, untightened };
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
