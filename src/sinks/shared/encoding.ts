import { z } from 'zod';
import type { ByteSink } from './byte-batch.js';
import { deleteField, getField, parsePath, setField, type Fields, type LogEvent } from '../../core/event.js';

/** `encoding` options shared by every sink (Vector names). */
export const encodingSchema = z.strictObject({
  codec: z.enum(['json', 'text']).default('json').describe('json: one JSON object per event; text: the message field only.'),
  only_fields: z.array(z.string()).optional().describe('Ship only these fields (dotted paths).'),
  except_fields: z.array(z.string()).optional().describe('Ship every field but these (dotted paths).'),
});
export type EncodingOptions = z.infer<typeof encodingSchema>;

/** Characters JSON.stringify would escape (quotes, backslash, controls, lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const CLOSE_BRACE = 0x7d;
const keyPrefixes = new Map<string, string>();
const firstKeyPrefixes = new Map<string, string>();
/** Field names can come from parsed user JSON: past this many, prefixes are built, not cached. */
const MAX_CACHED_KEYS = 4096;

/** `,"key":`, computed once per key name. */
function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = ',' + JSON.stringify(key) + ':';
    if (keyPrefixes.size < MAX_CACHED_KEYS) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** `{"key":`, for the first field of an object. */
function firstKeyPrefix(key: string): string {
  let prefix = firstKeyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = '{' + keyPrefix(key).slice(1);
    if (firstKeyPrefixes.size < MAX_CACHED_KEYS) firstKeyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** Field positions whose last key each encoder remembers with its prefix bytes. */
const KEY_SLOTS = 32;
/** Field positions whose recent keys and string values each encoder remembers. */
const RECENT_SLOTS = 8;
const EMPTY_OBJECT = Buffer.from('{}');
/** Key prefixes as bytes: [`,"key":`, `{"key":`]. */
const keyBytesCaches = [new Map<string, Buffer>(), new Map<string, Buffer>()] as const;

/** `,"key":` (`{` instead of `,` for the first field), cached. */
function keyBytes(key: string, first: boolean): Buffer {
  const cache = keyBytesCaches[first ? 1 : 0];
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = Buffer.from(first ? firstKeyPrefix(key) : keyPrefix(key));
    if (cache.size < MAX_CACHED_KEYS) cache.set(key, bytes);
  }
  return bytes;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** Longer arrays go through JSON.stringify (one call instead of one per element). */
const MAX_DIRECT_ARRAY = 64;

function isFrozenObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && Object.isFrozen(value);
}

function stringJson(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}

/**
 * Turns an event into bytes. JSON of frozen sub-objects (per-file pod metadata shared by many
 * events) is cached: a file's metadata is serialised once, not once per line.
 */
export class EventEncoder {
  private readonly only: ReturnType<typeof parsePath>[] | undefined;
  private readonly except: ReturnType<typeof parsePath>[] | undefined;
  private readonly frozenJson = new WeakMap<object, string>();
  /** Per field position (the first RECENT_SLOTS), two recent keys and string values and their bytes (see `recentField`). */
  private readonly recentKeys: string[] = new Array<string>(RECENT_SLOTS * 2).fill('');
  private readonly recentValues: string[] = new Array<string>(RECENT_SLOTS * 2).fill('');
  private readonly recentBytes: Array<Buffer | undefined> = new Array<Buffer | undefined>(RECENT_SLOTS * 2).fill(undefined);
  private readonly frozenBuffers = new WeakMap<object, Buffer>();
  /** Per field position, the last key written there and its prefix bytes (see `keyAt`). */
  private readonly slotKeys: string[] = new Array<string>(KEY_SLOTS).fill('');
  // Seeded with the empty key's own bytes: a field named "" (JSON allows it) must hit them.
  private readonly slotKeyBytes: Buffer[] = Array.from({ length: KEY_SLOTS }, (_, slot) => keyBytes('', slot === 0));

  constructor(readonly options: EncodingOptions) {
    this.only = options.only_fields?.map(parsePath);
    this.except = options.except_fields?.map(parsePath);
  }

  /** The fields to ship after only_fields / except_fields. Never mutates the event. */
  shippedFields(event: LogEvent): Fields {
    let fields = event.fields;
    if (this.only) {
      const picked: Fields = {};
      for (const path of this.only) {
        const value = getField(fields, path);
        if (value !== undefined) setField(picked, path, value);
      }
      fields = picked;
    }
    if (this.except) {
      fields = { ...fields };
      for (const path of this.except) deleteField(fields, path);
    }
    return fields;
  }

  /** One event as a string without a trailing newline. */
  encode(event: LogEvent): string {
    if (this.options.codec === 'text') {
      const message = event.fields.message;
      return typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message);
    }
    return this.toJson(this.shippedFields(event));
  }

  /**
   * One event's bytes appended to `out` (no trailing newline). The cached JSON of frozen metadata
   * is copied as bytes instead of being concatenated into a per-event string that must then be
   * flattened and encoded (with full pod metadata that string is ~1.5 KiB per event, and the
   * garbage dominated the http sink's profile). The plain fields between frozen ones go out as
   * one string: each `append` is a Buffer.write call whose fixed cost showed in the profile.
   */
  encodeInto(event: LogEvent, out: ByteSink): void {
    if (this.options.codec === 'text') {
      out.append(this.encode(event));
      return;
    }
    this.encodeFieldsInto(this.shippedFields(event), out);
  }

  /**
   * JSON of a field tree already selected (see `encodeFields`), appended to `out`, without making
   * a string per event: building `{"message":"..."` by concatenation allocated ~0.9 KB of cons and
   * flattened strings per W2 event (62 % of the agent's allocations, so most of its scavenges).
   * Key prefixes are cached bytes, plain strings are written as they are between quotes, frozen
   * objects (pod metadata) are cached bytes, and a string field repeating one of the last two
   * values at its position (per-file `file`, `stream`, `source_type`) is one cached copy.
   */
  encodeFieldsInto(fields: Fields, out: ByteSink): void {
    let slot = 0;
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      const cached = typeof value === 'string' && slot < RECENT_SLOTS ? this.recentField(slot, key, value) : undefined;
      if (cached !== undefined) out.appendBytes(cached);
      else this.writeField(slot, key, value, out);
      slot++;
    }
    if (slot === 0) out.appendBytes(EMPTY_OBJECT);
    else out.appendByte(CLOSE_BRACE);
  }

  /**
   * The cached bytes of `"key":"value"` (with its leading `{` or `,`) for a string at `slot`, or
   * undefined when it is to be written out. Two entries per position, so two values can alternate
   * (stdout / stderr) without missing each time; bytes are made on a value's second sighting in a
   * row of hits, so a value seen once (a message) costs no allocation.
   */
  private recentField(slot: number, key: string, value: string): Buffer | undefined {
    let at = slot * 2;
    if (this.recentValues[at] !== value || this.recentKeys[at] !== key) {
      at++;
      if (this.recentValues[at] !== value || this.recentKeys[at] !== key) {
        this.recentKeys[at] = this.recentKeys[at - 1]!;
        this.recentValues[at] = this.recentValues[at - 1]!;
        this.recentBytes[at] = this.recentBytes[at - 1];
        this.recentKeys[at - 1] = key;
        this.recentValues[at - 1] = value;
        this.recentBytes[at - 1] = undefined;
        return undefined;
      }
    }
    let bytes = this.recentBytes[at];
    if (bytes === undefined) {
      bytes = Buffer.from((slot === 0 ? firstKeyPrefix(key) : keyPrefix(key)) + stringJson(value));
      this.recentBytes[at] = bytes;
    }
    return bytes;
  }

  /** `{"key":value` or `,"key":value`. */
  private writeField(slot: number, key: string, value: unknown, out: ByteSink): void {
    out.appendBytes(slot < KEY_SLOTS && this.slotKeys[slot] === key ? this.slotKeyBytes[slot]! : this.keyAt(slot, key));
    this.writeValue(value, out);
  }

  /**
   * The prefix bytes of `key` at `slot`, remembered for the next event: events of one source keep
   * their keys in one order, and two property names compare by identity, so a hit costs no lookup
   * in the key cache (which, over the ~18 fields of a remapped event, showed in the profile).
   */
  private keyAt(slot: number, key: string): Buffer {
    const bytes = keyBytes(key, slot === 0);
    if (slot < KEY_SLOTS) {
      this.slotKeys[slot] = key;
      this.slotKeyBytes[slot] = bytes;
    }
    return bytes;
  }

  /**
   * A value's JSON. Numbers, booleans, null and arrays of them are written directly: remap programs
   * add such fields (`latency_s`, `tags`) and JSON.stringify made a string for each.
   */
  private writeValue(value: unknown, out: ByteSink): void {
    if (typeof value === 'string') out.appendJsonString(value);
    else if (typeof value === 'number') out.append(Number.isFinite(value) ? String(value) : 'null'); // as JSON.stringify
    else if (typeof value === 'boolean') out.appendBytes(value ? TRUE : FALSE);
    else if (value === null) out.appendBytes(NULL);
    else if (isFrozenObject(value)) out.appendBytes(this.frozenBytes(value));
    else if (Array.isArray(value) && value.length <= MAX_DIRECT_ARRAY) {
      out.appendByte(OPEN_BRACKET);
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out.appendByte(COMMA);
        const element: unknown = value[i];
        if (element === undefined || typeof element === 'function' || typeof element === 'symbol') out.appendBytes(NULL);
        else this.writeValue(element, out);
      }
      out.appendByte(CLOSE_BRACKET);
    } else out.append(this.valueJson(value));
  }

  private frozenBytes(value: object): Buffer {
    let bytes = this.frozenBuffers.get(value);
    if (bytes === undefined) {
      bytes = Buffer.from(this.valueJson(value));
      this.frozenBuffers.set(value, bytes);
    }
    return bytes;
  }

  /** JSON of a field tree already selected (e.g. by `shippedFields` then trimmed by the sink). */
  encodeFields(fields: Fields): string {
    return this.toJson(fields);
  }

  /**
   * Hand-rolled top level (measured ~1.3x faster than JSON.stringify of the whole event with path
   * metadata, ~1.6x with full pod metadata): key prefixes are cached, strings without characters
   * to escape skip JSON.stringify, and frozen shared objects are serialised once.
   */
  private toJson(fields: Fields): string {
    let out = '';
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      const prefix = keyPrefix(key);
      out += prefix + this.valueJson(value);
    }
    return out.length === 0 ? '{}' : '{' + out.slice(1) + '}';
  }

  private valueJson(value: unknown): string {
    if (typeof value === 'string') return stringJson(value);
    if (value !== null && typeof value === 'object' && Object.isFrozen(value)) {
      let json = this.frozenJson.get(value);
      if (json === undefined) {
        json = JSON.stringify(value);
        this.frozenJson.set(value, json);
      }
      return json;
    }
    return JSON.stringify(value) ?? 'null';
  }
}
