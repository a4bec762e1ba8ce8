import type { Fields } from '../../core/event.js';

export type Codec = 'json' | 'ndjson' | 'bytes';

export class BodyError extends Error {}

/**
 * A request body as event field trees. A JSON object keeps its keys at the top level. A JSON array
 * is one event per element; a Kubernetes audit `EventList` (what kube-apiserver's webhook backend
 * posts) is one event per item: only `kind: "EventList"` with an `items` array is split, any other
 * object is one event as it is. Scalars become `{ message: value }`.
 */
export function decodeBody(body: Buffer, codec: Codec): Fields[] {
  if (codec === 'bytes') return body.length === 0 ? [] : [{ message: body.toString('utf8') }];
  const text = body.toString('utf8');
  if (codec === 'json') {
    if (text.trim() === '') throw new BodyError('empty body: expected JSON');
    return splitValue(parse(text, 'body'));
  }
  const out: Fields[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') for (const fields of splitValue(parse(line, `line ${i + 1}`))) out.push(fields);
  }
  return out;
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BodyError(`${where}: invalid JSON: ${(error as Error).message}`);
  }
}

function splitValue(value: unknown): Fields[] {
  if (Array.isArray(value)) return value.map(toFields);
  if (isObject(value) && value.kind === 'EventList' && Array.isArray(value.items)) return value.items.map(toFields);
  return [toFields(value)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toFields(value: unknown): Fields {
  return isObject(value) ? value : { message: value };
}
