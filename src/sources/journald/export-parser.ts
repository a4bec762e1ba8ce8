/**
 * A streaming parser of journalctl's export format (`journalctl -o export`): entries separated by
 * an empty line; each field is `NAME=value\n`, or, for values with newlines or binary data,
 * `NAME\n` + a 64-bit little-endian length + the bytes + `\n`. Memory is bounded: a value keeps at
 * most `maxFieldBytes` (the rest is skipped, not buffered) and an entry at most `maxEntryBytes`
 * of values (later fields are dropped); both are reported on the entry.
 */
export type JournalFields = Record<string, string | string[]>;

export interface JournalEntry {
  fields: JournalFields;
  /** Fields cut at maxFieldBytes, or dropped beyond maxEntryBytes. */
  truncatedFields: number;
}

export interface ExportLimits {
  maxFieldBytes: number;
  maxEntryBytes: number;
}

const MAX_NAME_BYTES = 512; // journald field names are at most 64 bytes
const NL = 0x0a;
const EQ = 0x3d;

export class ExportFormatError extends Error {}

type State = 'name' | 'text' | 'length' | 'binary' | 'binaryEnd';

export class ExportParser {
  private state: State = 'name';
  private name: Buffer[] = [];
  private nameBytes = 0;
  private value: Buffer[] = [];
  private valueBytes = 0;
  private valueCut = false;
  private lengthBytes: Buffer[] = [];
  private binaryRemaining = 0;
  private fields: JournalFields = {};
  private entryBytes = 0;
  private truncated = 0;
  private hasFields = false;

  constructor(
    private readonly limits: ExportLimits,
    private readonly onEntry: (entry: JournalEntry) => void,
  ) {}

  /** True between entries: nothing of a half-read entry is pending. */
  get atEntryBoundary(): boolean {
    return this.state === 'name' && this.nameBytes === 0 && !this.hasFields;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.state) {
        case 'name': {
          let end = pos;
          while (end < chunk.length && chunk[end] !== NL && chunk[end] !== EQ) end++;
          if (end > pos) this.addName(chunk.subarray(pos, end));
          if (end === chunk.length) return;
          const separator = chunk[end];
          pos = end + 1;
          if (separator === NL && this.nameBytes === 0) {
            this.endEntry();
          } else if (separator === NL) {
            this.state = 'length';
          } else {
            if (this.nameBytes === 0) throw new ExportFormatError('field without a name');
            this.state = 'text';
          }
          break;
        }
        case 'text': {
          const nl = chunk.indexOf(NL, pos);
          const end = nl === -1 ? chunk.length : nl;
          this.addValue(chunk.subarray(pos, end));
          if (nl === -1) return;
          pos = nl + 1;
          this.endField();
          break;
        }
        case 'length': {
          const need = 8 - this.lengthBytes.reduce((n, b) => n + b.length, 0);
          const take = chunk.subarray(pos, pos + need);
          this.lengthBytes.push(take);
          pos += take.length;
          if (take.length < need) return;
          const length = Buffer.concat(this.lengthBytes).readBigUInt64LE(0);
          this.lengthBytes = [];
          this.binaryRemaining = length > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(length);
          this.state = this.binaryRemaining === 0 ? 'binaryEnd' : 'binary';
          break;
        }
        case 'binary': {
          const take = Math.min(this.binaryRemaining, chunk.length - pos);
          this.addValue(chunk.subarray(pos, pos + take));
          pos += take;
          this.binaryRemaining -= take;
          if (this.binaryRemaining === 0) this.state = 'binaryEnd';
          break;
        }
        case 'binaryEnd': {
          if (chunk[pos] !== NL) throw new ExportFormatError(`binary field "${this.fieldName()}" not followed by a newline`);
          pos++;
          this.endField();
          break;
        }
      }
    }
  }

  private addName(part: Buffer): void {
    this.nameBytes += part.length;
    if (this.nameBytes > MAX_NAME_BYTES) throw new ExportFormatError(`field name longer than ${MAX_NAME_BYTES} bytes`);
    this.name.push(Buffer.from(part)); // copied: the chunk is reused by the stream
  }

  private addValue(part: Buffer): void {
    const room = Math.min(this.limits.maxFieldBytes - this.valueBytes, this.limits.maxEntryBytes - this.entryBytes - this.valueBytes);
    if (part.length > room) this.valueCut = true;
    if (room <= 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    this.value.push(Buffer.from(kept));
    this.valueBytes += kept.length;
  }

  private fieldName(): string {
    return Buffer.concat(this.name).toString('latin1');
  }

  private endField(): void {
    const name = this.fieldName();
    const dropped = this.valueCut && this.valueBytes === 0;
    if (this.valueCut) this.truncated++;
    if (!dropped || name.startsWith('__')) {
      const value = Buffer.concat(this.value, this.valueBytes).toString('utf8');
      const previous = this.fields[name];
      if (previous === undefined) this.fields[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else this.fields[name] = [previous, value];
      this.entryBytes += this.valueBytes;
    }
    this.hasFields = true;
    this.name = [];
    this.nameBytes = 0;
    this.value = [];
    this.valueBytes = 0;
    this.valueCut = false;
    this.state = 'name';
  }

  private endEntry(): void {
    if (!this.hasFields) return; // blank lines between entries
    const entry = { fields: this.fields, truncatedFields: this.truncated };
    this.fields = {};
    this.entryBytes = 0;
    this.truncated = 0;
    this.hasFields = false;
    this.onEntry(entry);
  }
}
