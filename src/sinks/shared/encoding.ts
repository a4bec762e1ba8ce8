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

/** Field positions whose last string and JSON each encoder remembers. */
const RECENT_SLOTS = 8;

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
  /**
   * The last string seen at each field position and its JSON. Per-file values (file, stream,
   * source_type) repeat from one event to the next: a hit skips the escape scan. A hit only needs
   * the same string, so a position mix-up costs a miss, never a wrong result.
   */
  private readonly recentStrings: string[] = new Array<string>(RECENT_SLOTS).fill('');
  private readonly recentJson: string[] = new Array<string>(RECENT_SLOTS).fill('""');
  private readonly frozenBuffers = new WeakMap<object, Buffer>();

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

  /** JSON of a field tree already selected (see `encodeFields`), appended to `out`. */
  encodeFieldsInto(fields: Fields, out: ByteSink): void {
    let text = '';
    let first = true;
    let slot = 0;
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      text += first ? firstKeyPrefix(key) : keyPrefix(key);
      first = false;
      if (typeof value === 'string' && slot < RECENT_SLOTS) text += this.recentStringJson(value, slot);
      else if (value !== null && typeof value === 'object' && Object.isFrozen(value)) {
        out.append(text);
        out.appendBytes(this.frozenBytes(value));
        text = '';
      } else text += this.valueJson(value);
      slot++;
    }
    if (first) out.append('{}');
    else if (text === '') out.appendByte(CLOSE_BRACE);
    else out.append(text + '}');
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

  private recentStringJson(value: string, slot: number): string {
    if (this.recentStrings[slot] === value) return this.recentJson[slot]!;
    const json = stringJson(value);
    this.recentStrings[slot] = value;
    this.recentJson[slot] = json;
    return json;
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
