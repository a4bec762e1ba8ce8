import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The journal cursor of the last acknowledged entry, one line in a file of mode 0600: written to a
 * temporary file, fsynced, renamed over the old one, so a crash leaves the old or the new cursor.
 * Writes are coalesced: at most one in flight, then the newest cursor.
 */
export class CursorStore {
  private wanted: string | undefined;
  private written: string | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly onError: (error: Error) => void,
  ) {}

  load(): string | undefined {
    try {
      const cursor = readFileSync(this.path, 'utf8').trim();
      this.written = cursor === '' ? undefined : cursor;
      return this.written;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read the journald checkpoint ${this.path}: ${(error as Error).message}`);
    }
  }

  save(cursor: string): void {
    this.wanted = cursor;
    this.writing ??= this.writeLoop().finally(() => (this.writing = undefined));
  }

  /** Resolves once the newest cursor is on disk (or its write failed and was reported). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    while (this.wanted !== undefined && this.wanted !== this.written) {
      const cursor = this.wanted;
      try {
        await this.write(cursor);
        this.written = cursor;
      } catch (error) {
        this.onError(error as Error);
        return;
      }
    }
  }

  private async write(cursor: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.chmod(0o600); // a leftover temporary file keeps its old mode otherwise
      await handle.writeFile(`${cursor}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
