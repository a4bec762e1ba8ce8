import { createHash } from 'node:crypto';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { closeQuietly, openVerified, readAt } from './chunk-reader.js';

/**
 * File identity: device + inode AND a hash of the first bytes. The inode alone is fooled by
 * inode reuse (a deleted log's inode handed to a new file); the head alone by two files that
 * start alike. A gzipped rotated file has a new inode and compressed bytes, so its identity is
 * matched by the hash of its *decompressed* head instead (see Tailer).
 *
 * A file seen while still short is identified by the bytes it had (`headLength` < the maximum),
 * so a pod that writes one short line is still checkpointed.
 */
export interface Fingerprint {
  readonly dev: number;
  readonly ino: number;
  readonly headLength: number;
  readonly headHash: string;
}

export const FINGERPRINT_HEAD_BYTES = 256;

export function hashHead(head: Buffer, length: number): string {
  return createHash('sha256').update(head.subarray(0, length)).digest('base64url').slice(0, 22);
}

/** Keys of the fingerprints in use (a file's fingerprint is looked up every checkpoint write). */
const fingerprintKeys = new WeakMap<Fingerprint, string>();

export function fingerprintKey(fp: Fingerprint): string {
  let key = fingerprintKeys.get(fp);
  if (key === undefined) fingerprintKeys.set(fp, (key = `${fp.dev}:${fp.ino}:${fp.headLength}:${fp.headHash}`));
  return key;
}

/** True when `head` (at least `fp.headLength` bytes long) starts with the bytes `fp` was made from. */
export function headMatches(fp: Fingerprint, head: Buffer): boolean {
  return head.length >= fp.headLength && hashHead(head, fp.headLength) === fp.headHash;
}

export async function readPlainHead(fd: number, maxBytes = FINGERPRINT_HEAD_BYTES): Promise<Buffer> {
  const buf = Buffer.alloc(maxBytes);
  const bytesRead = await readAt(fd, buf, maxBytes, 0);
  return buf.subarray(0, bytesRead);
}

/** Compressed bytes read for a gzip head at most (a huge gzip header is not worth more). */
const GZIP_HEAD_INPUT_LIMIT = 1024 * 1024;

/**
 * The first decompressed bytes of an open gzip file (positional reads: the descriptor stays usable);
 * shorter (possibly empty) when it is truncated or corrupt. Decompressed with a sync flush, so a
 * prefix of the file yields what it holds without an "unexpected end" error.
 */
export async function readGzipHead(fd: number, maxBytes = FINGERPRINT_HEAD_BYTES): Promise<Buffer> {
  let input = Buffer.alloc(0);
  let head = Buffer.alloc(0);
  const chunk = Buffer.alloc(16 * 1024);
  while (head.length < maxBytes && input.length < GZIP_HEAD_INPUT_LIMIT) {
    const bytesRead = await readAt(fd, chunk, chunk.length, input.length);
    if (bytesRead === 0) break;
    input = Buffer.concat([input, chunk.subarray(0, bytesRead)]);
    try {
      head = gunzipSync(input, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      break; // corrupt: the bytes that did decompress before are the head
    }
  }
  return head.subarray(0, maxBytes);
}

/** The fingerprint of a file from its first bytes (at most FINGERPRINT_HEAD_BYTES are used). */
export function fingerprintFromHead(dev: number, ino: number, head: Buffer): Fingerprint {
  const headLength = Math.min(head.length, FINGERPRINT_HEAD_BYTES);
  return { dev, ino, headLength, headHash: hashHead(head, headLength) };
}

/** The head of the file at `path` (a validated real path: see `PathPolicy`), opened safely and closed again. */
export async function readHeadAt(path: string, compressed: boolean): Promise<Buffer> {
  const { fd } = await openVerified(path);
  try {
    return compressed ? await readGzipHead(fd) : await readPlainHead(fd);
  } finally {
    await closeQuietly(fd);
  }
}

/** Whether the file now at `path` starts with the bytes `fingerprint` was made from (true if it is gone). */
export async function pathStillHolds(fingerprint: Fingerprint, compressed: boolean, path: string): Promise<boolean> {
  try {
    return headMatches(fingerprint, await readHeadAt(path, compressed));
  } catch {
    return true; // gone (or no longer a file to read): nothing to re-identify
  }
}
