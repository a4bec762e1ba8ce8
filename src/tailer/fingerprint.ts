import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

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

export async function readPlainHead(handle: FileHandle, maxBytes = FINGERPRINT_HEAD_BYTES): Promise<Buffer> {
  const buf = Buffer.alloc(maxBytes);
  const { bytesRead } = await handle.read(buf, 0, maxBytes, 0);
  return buf.subarray(0, bytesRead);
}

/** The first decompressed bytes of a gzip file; shorter (possibly empty) when it is truncated or corrupt. */
export function readGzipHead(path: string, maxBytes = FINGERPRINT_HEAD_BYTES): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const input = createReadStream(path);
    const gunzip = createGunzip();
    const finish = (): void => {
      if (settled) return;
      settled = true;
      input.destroy();
      gunzip.destroy();
      resolve(Buffer.concat(chunks, length).subarray(0, maxBytes));
    };
    input.on('error', finish);
    gunzip.on('error', finish);
    gunzip.on('end', finish);
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= maxBytes) finish();
    });
    input.pipe(gunzip);
  });
}


/** The fingerprint of a file from its first bytes (at most FINGERPRINT_HEAD_BYTES are used). */
export function fingerprintFromHead(dev: number, ino: number, head: Buffer): Fingerprint {
  const headLength = Math.min(head.length, FINGERPRINT_HEAD_BYTES);
  return { dev, ino, headLength, headHash: hashHead(head, headLength) };
}

/** Whether the file now at `path` starts with the bytes `fingerprint` was made from (true if it is gone). */
export async function pathStillHolds(fingerprint: Fingerprint, compressed: boolean, path: string): Promise<boolean> {
  try {
    if (compressed) return headMatches(fingerprint, await readGzipHead(path));
    const handle = await open(path, 'r');
    try {
      return headMatches(fingerprint, await readPlainHead(handle));
    } finally {
      await handle.close();
    }
  } catch {
    return true; // gone: nothing to re-identify
  }
}
