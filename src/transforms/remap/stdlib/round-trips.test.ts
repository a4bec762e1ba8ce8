// Property tests (fast-check, fixed seeds, bounded runs): VRL's documented parse/format pairs round
// trip through real programs compiled and run as the transform does, and a few language laws hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findFunction, functionNames } from '../function.js';
import { compileProgram, type Program } from '../program.js';
import { CompileError, SyntaxFailure } from '../diagnostic.js';
import { T, type Obj } from '../value.js';

const RUNS = { numRuns: 150, seed: 20261202 };
const compiled = new Map<string, Program>();
const compile = (source: string): Program => {
  let program = compiled.get(source);
  if (program === undefined) compiled.set(source, (program = compileProgram(source)));
  return program;
};
function value(source: string, event: Obj = {}): unknown {
  const outcome = compile(source).run(structuredClone(event));
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.message} (program: ${source})`);
  return outcome.value;
}
function events(source: string, event: Obj): Obj[] {
  const outcome = compile(source).run(structuredClone(event));
  if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.message} (program: ${source})`);
  return outcome.events;
}

/** A VRL literal of a JSON value (strings escaped so that no `{{` template and no control character appears). */
function literal(v: unknown): string {
  if (typeof v === 'string') {
    let out = '"';
    for (const c of v) {
      const code = c.codePointAt(0)!;
      out += c === '"' || c === '\\' ? `\\${c}` : code < 0x20 || code === 0x7f || c === '{' ? `\\u{${code.toString(16)}}` : c;
    }
    return out + '"';
  }
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 53 ? String(v) : Number.isInteger(v) ? `${v.toFixed(1)}` : String(v);
  if (v === null || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  return `{${Object.entries(v as Obj).map(([k, x]) => `${literal(k)}: ${literal(x)}`).join(', ')}}`;
}
/** A VRL path to a field (every segment quoted). */
const path = (keys: string[]) => (keys.length === 0 ? '.' : keys.map((k) => `.${literal(k)}`).join(''));

/** Text without lone surrogates (VRL strings are UTF-8). */
const text = (max = 40) => fc.string({ unit: 'grapheme', maxLength: max });
const awkward = (max = 12) => fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '=', '\\', ',', ':', '\t', '\n', 'é', '😀', '{', '}', '.', '['), maxLength: max });
/** Finite JSON values; -0 is 0 in JSON. */
const plain = <V>(v: V): V => JSON.parse(JSON.stringify(v)) as V; // ordinary prototypes (fast-check makes null-prototype objects)
const json = fc.jsonValue({ maxDepth: 4 }).map(plain);
const jsonObject = fc.dictionary(text(12), json, { maxKeys: 6 }).map(plain);

describe('VRL round trips (properties)', () => {
  it('parse_json(encode_json(v)) == v for any JSON value, unicode and nesting included', () => {
    fc.assert(
      fc.property(json, (v) => {
        assert.deepStrictEqual(events('.v = parse_json!(encode_json(.v))', { v })[0]!.v, v); // (an i64 beyond 2^53 leaves as a number)
        assert.deepStrictEqual(JSON.parse(value('encode_json(.v)', { v }) as string), v);
      }),
      RUNS,
    );
  });

  it('encode_json(parse_json(text)) keeps every i64 digit (and any float) in nested JSON', () => {
    const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    const float = fc.double({ noNaN: true, noDefaultInfinity: true, noInteger: true });
    fc.assert(
      fc.property(fc.array(fc.oneof(i64, float), { minLength: 1, maxLength: 5 }), text(8), (nums, key) => {
        const s = JSON.stringify({ [key]: nums.map((n) => (typeof n === 'bigint' ? `#${n}#` : n)) }).replace(/"#(-?\d+)#"/g, '$1');
        assert.equal(value('encode_json(parse_json!(.s))', { s }), s);
      }),
      RUNS,
    );
  });

  it('parse_logfmt(encode_logfmt(o)) == o for keys and values with spaces, quotes, =, escapes', () => {
    const key = awkward(8).filter((k) => k.trim() !== '');
    fc.assert(
      fc.property(fc.dictionary(key, awkward(12), { minKeys: 1, maxKeys: 5 }).map(plain), (o) => {
        const line = value('encode_logfmt!(.o)', { o }) as string;
        assert.deepStrictEqual(value('parse_logfmt!(.line)', { line }), o, line);
      }),
      RUNS,
    );
  });

  it('parse_key_value(encode_key_value(o)) == o with default and other delimiters', () => {
    const key = awkward(8).filter((k) => k.trim() !== '');
    const delimiters = fc.constantFrom(['=', ' '], [':', ','], ['=', ';'], ['=', ', ']);
    fc.assert(
      fc.property(fc.dictionary(key, awkward(12), { minKeys: 1, maxKeys: 5 }).map(plain), delimiters, (o, [kv, fd]) => {
        const args = `key_value_delimiter: ${literal(kv)}, field_delimiter: ${literal(fd)}`;
        const line = value(`encode_key_value!(.o, ${args})`, { o }) as string;
        assert.deepStrictEqual(value(`parse_key_value!(.line, ${args})`, { line }), o, line);
      }),
      RUNS,
    );
  });

  it('decode_base64(encode_base64(s)) == s with and without padding, standard and url_safe', () => {
    fc.assert(
      fc.property(text(), fc.boolean(), fc.constantFrom('standard', 'url_safe'), (s, padding, charset) => {
        const encoded = value(`encode_base64(string!(.s), padding: ${padding}, charset: "${charset}")`, { s }) as string;
        const standard = Buffer.from(s).toString('base64');
        const expected = charset === 'url_safe' ? standard.replaceAll('+', '-').replaceAll('/', '_') : standard;
        assert.equal(encoded, padding ? expected : expected.replace(/=+$/, ''));
        assert.equal(value(`decode_base64!(string!(.e), charset: "${charset}")`, { e: encoded }), s);
      }),
      RUNS,
    );
  });

  it('decode_base16(encode_base16(s)) == s and decode_percent(encode_percent(s)) == s', () => {
    fc.assert(
      fc.property(text(), (s) => {
        assert.equal(value('decode_base16!(encode_base16(string!(.s)))', { s }), s);
        assert.equal(value('decode_percent(encode_percent(string!(.s)))', { s }), s);
        assert.match(value('encode_percent(string!(.s))', { s }) as string, /^[A-Za-z0-9%._~!*'()-]*$/);
      }),
      RUNS,
    );
  });

  it('to_int(to_string(n)) == n and parse_int(format_int(n, base), base) == n for every i64 and base 2-36', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 2, max: 36 }), (n, base) => {
        const s = n.toString();
        assert.equal(value('to_string(to_int!(.s))', { s }), s);
        assert.equal(value(`to_int!(to_string(${s})) == ${s}`), true, s);
        assert.equal(value(`format_int!(parse_int!(.s), ${base})`, { s }), n.toString(base));
        assert.equal(value(`parse_int!(format_int!(${s}, ${base}), ${base}) == ${s}`), true, `${s} base ${base}`);
      }),
      RUNS,
    );
  });

  const instant = fc.record({ ms: fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), sub: fc.integer({ min: 0, max: 999_999 }) });
  const iso = ({ ms, sub }: { ms: number; sub: number }) => new Date(ms).toISOString().slice(0, 23) + String(sub).padStart(6, '0') + 'Z';
  /** VRL's to_string of a timestamp: 0, 3, 6 or 9 fraction digits, as few as hold it. */
  const rfc3339 = (t: { ms: number; sub: number }) => {
    const digits = iso(t).slice(20, 29);
    const n = digits === '000000000' ? 0 : digits.endsWith('000000') ? 3 : digits.endsWith('000') ? 6 : 9;
    return iso(t).slice(0, 19) + (n === 0 ? '' : `.${digits.slice(0, n)}`) + 'Z';
  };

  it('parse_timestamp(format_timestamp(t, f), f) == t for any nanosecond in years 1-9999', () => {
    const format = fc.constantFrom('%+', '%Y-%m-%dT%H:%M:%S%.9fZ', '%Y-%m-%d %H:%M:%S%.f %z', '%F %T%.9f', '%s %9f');
    fc.assert(
      fc.property(instant, format, (t, f) => {
        const program = `t = parse_timestamp!(.t, "%+")\ns = format_timestamp!(t, ${literal(f)})\n[s, to_string(parse_timestamp!(s, ${literal(f)})), parse_timestamp!(s, ${literal(f)}) == t]`;
        const [s, back, equal] = value(program, { t: iso(t) }) as [string, string, boolean];
        assert.equal(equal, true, `${iso(t)} via ${f}: ${s} -> ${back}`);
        assert.equal(back, rfc3339(t), `${iso(t)} via ${f}`);
      }),
      RUNS,
    );
  });

  it('from_unix_timestamp and to_unix_timestamp invert each other in every unit', () => {
    const units = { seconds: 1_000_000_000n, milliseconds: 1_000_000n, microseconds: 1000n, nanoseconds: 1n };
    fc.assert(
      fc.property(instant, fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (t, unit) => {
        const nanos = BigInt(t.ms) * 1_000_000n + BigInt(t.sub);
        const div = units[unit];
        const n = nanos / div - (nanos % div < 0n ? 1n : 0n); // floor: VRL's timestamp() rounds towards the past
        if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) {
          // beyond i64 nanoseconds (before 1677, after 2262): an error, never a wrapped number
          assert.match(String(compile('to_unix_timestamp(parse_timestamp!(.t, "%+"), unit: "nanoseconds")').run({ t: iso(t) }).kind), /^error$/, iso(t));
          return;
        }
        assert.equal(value(`to_string(to_unix_timestamp(parse_timestamp!(.t, "%+"), unit: "${unit}"))`, { t: iso(t) }), n.toString(), `${iso(t)} ${unit}`);
        assert.equal(value(`to_unix_timestamp(from_unix_timestamp(${n}, unit: "${unit}"), unit: "${unit}") == ${n}`), true, `${n} ${unit}`);
        if (unit === 'nanoseconds') assert.equal(value(`to_string(from_unix_timestamp(${n}, unit: "nanoseconds"))`), value('to_string(parse_timestamp!(.t, "%+"))', { t: iso(t) }));
      }),
      RUNS,
    );
  });

  it('parse_url of a URL built from parts gives the parts back', () => {
    const word = fc.string({ unit: fc.constantFrom(...'abcxyz019-_.~'), minLength: 1, maxLength: 8 }).filter((w) => w !== '.' && w !== '..'); // dot segments are resolved away
    const parts = fc.record({
      scheme: fc.constantFrom('http', 'https', 'ftp'),
      user: fc.option(fc.tuple(word, fc.option(word, { nil: undefined })), { nil: undefined }),
      host: fc.oneof(fc.domain(), fc.ipV4()),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: fc.array(word, { maxLength: 4 }),
      query: fc.dictionary(fc.string({ unit: fc.constantFrom(...'abc12'), minLength: 1, maxLength: 4 }), fc.string({ unit: fc.constantFrom(...'ab c=&/?é+'), maxLength: 6 }), { maxKeys: 3 }).map(plain),
      fragment: fc.option(word, { nil: undefined }),
    });
    fc.assert(
      fc.property(parts, (p) => {
        const userinfo = p.user === undefined ? '' : `${p.user[0]}${p.user[1] === undefined ? '' : `:${p.user[1]}`}@`;
        const query = Object.entries(p.query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const url = `${p.scheme}://${userinfo}${p.host}${p.port === undefined ? '' : `:${p.port}`}/${p.path.join('/')}${query ? `?${query}` : ''}${p.fragment === undefined ? '' : `#${p.fragment}`}`;
        const defaultPort = { http: 80, https: 443, ftp: 21 }[p.scheme];
        assert.deepStrictEqual(value('parse_url!(.url)', { url }), {
          scheme: p.scheme,
          username: p.user?.[0] ?? '',
          password: p.user?.[1] ?? '',
          host: p.host.toLowerCase(),
          port: p.port === undefined || p.port === defaultPort ? null : p.port,
          path: `/${p.path.join('/')}`,
          query: p.query,
          fragment: p.fragment ?? null,
        }, url);
      }),
      RUNS,
    );
  });
});

describe('VRL language laws (properties)', () => {
  it('no program throws out of the runtime: compile errors are diagnostics, run-time errors are values', () => {
    const names = functionNames().filter((n) => !['log', 'now', 'get_env_var', 'get_hostname', 'uuid_v4', 'uuid_v7'].includes(n) && !n.startsWith('random_'));
    // Arguments of the parameter's type most of the time (so that most programs compile), anything else sometimes.
    const byType: [number, fc.Arbitrary<string>][] = [
      [T.bytes, fc.oneof(text(12).map(literal), awkward(10).map(literal), fc.constantFrom('"2020-01-01T00:00:00Z"', '"%Y-%m-%d"', '"nanoseconds"', '"url_safe"', '"0x1f"', '"a=1 b=\\"x y\\""', '"{\\"a\\":[1]}"', '"http://u:p@h:8/p?q=1#f"', '"1.5e3"', '""', '"SHA-256"'))],
      [T.integer, fc.oneof(fc.integer().map(String), fc.constantFrom('0', '-1', '2', '36', '9223372036854775807', '-9223372036854775807'))],
      [T.float, fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Number.isInteger(d) ? `${d}.0` : String(d)).replace('e', '.0e').replace(/\.(\d+)\.0e/, '.$1e'))],
      [T.boolean, fc.constantFrom('true', 'false')],
      [T.null, fc.constant('null')],
      [T.object, jsonObject.map(literal)],
      [T.array, fc.array(json, { maxLength: 4 }).map(literal)],
      [T.timestamp, fc.constantFrom("t'2020-01-01T00:00:00Z'", "t'1969-12-31T23:59:59.999999999Z'", "t'0001-01-01T00:00:00Z'")],
      [T.regex, fc.constantFrom("r'a+'", "r'(?P<k>\\w+)=(?P<v>\\S*)'", "r'^$'", "r'(?i)X'")],
    ];
    const any = fc.oneof(json.map(literal), fc.constantFrom('.', '.a', '.a.b[0]', '%x', 'string!(.a)', 'int(.n) ?? 0'), ...byType.map(([, a]) => a));
    const argFor = (type: number) => {
      const fitting = byType.filter(([t]) => (t & type) !== 0).map(([, a]) => a);
      return fitting.length === 0 ? any : fc.oneof({ arbitrary: fc.oneof(...fitting), weight: 6 }, { arbitrary: any, weight: 1 });
    };
    const call = fc.constantFrom(...names).chain((name) => {
      const params = findFunction(name)!.params;
      const required = params.filter((p) => p.required).length;
      return fc.record({
        name: fc.constant(name),
        count: fc.integer({ min: required, max: params.length }), // (arity errors are the checker's, tested elsewhere)
        args: fc.tuple(...params.map((p) => argFor(p.type)), any),
        tail: fc.constantFrom('', '\n.x = x', '\n. = x', '\n. |= object(x) ?? {}', '\nencode_json(x)'),
      });
    });
    let ran = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(call, fc.dictionary(text(6), json, { maxKeys: 4 }).map(plain), ({ name, count, args, tail }, event) => {
        const list = args.slice(0, count).join(', ');
        // Every way of handling the call; the checker accepts the one(s) that fit its fallibility.
        for (const source of [`x, err = ${name}(${list})${tail}`, `x = ${name}!(${list})${tail}`, `x = ${name}(${list}) ?? null${tail}`, `x = ${name}(${list})${tail}`]) {
          let program: Program;
          try {
            program = compileProgram(source);
          } catch (error) {
            if (!(error instanceof CompileError || error instanceof SyntaxFailure)) throw error;
            const code = error instanceof CompileError ? `E${error.diagnostics[0]?.code}` : "syntax";
            codes.set(code, (codes.get(code) ?? 0) + 1);
            continue;
          }
          ran++;
          const outcome = program.run({ ...event, a: 'x', n: 3 } as Obj, undefined, { x: 1 });
          assert.ok(['ok', 'error', 'abort'].includes(outcome.kind), source);
        }
      }),
      { ...RUNS, numRuns: 500 },
    );
    assert.ok(ran > 300, `only ${ran} of the generated programs compiled (${JSON.stringify([...codes])}): the property tests too little`);
  });

  it('. = merge(., x) and . |= x equal object spread', () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (event, x) => {
        const spread = { ...event, ...x };
        assert.deepStrictEqual(events(`. = merge(., ${literal(x)})`, event)[0], spread);
        assert.deepStrictEqual(events(`x = ${literal(x)}\n. |= x`, event)[0], spread);
        assert.deepStrictEqual(events(`x = .\n. = merge(., ${literal(x)})\n.old = x`, event)[0], { ...spread, old: event }, 'a variable holding the event keeps the old one');
      }),
      RUNS,
    );
  });

  it('after del(path), exists(path) is false and the rest of the event is untouched', () => {
    fc.assert(
      fc.property(jsonObject, fc.array(text(6), { minLength: 1, maxLength: 3 }), fc.nat(), (event, extra, pick) => {
        const keys: string[] = [];
        let at: unknown = event;
        for (const k of extra) {
          const own = at !== null && typeof at === 'object' && !Array.isArray(at) ? Object.keys(at as Obj) : [];
          const key = own.length > 0 && pick % 3 !== 0 ? own[pick % own.length]! : k;
          keys.push(key);
          at = own.includes(key) ? (at as Obj)[key] : undefined;
        }
        const p = path(keys);
        const [after] = events(`.deleted = del(${p})\n.exists = exists(${p})`, event) as [Obj];
        assert.equal(after.exists, false, p);
        const expected = structuredClone(event);
        let parent: unknown = expected;
        for (const k of keys.slice(0, -1)) parent = parent !== null && typeof parent === 'object' && !Array.isArray(parent) ? (parent as Obj)[k] : undefined;
        if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) delete (parent as Obj)[keys.at(-1)!];
        assert.deepStrictEqual({ ...after, deleted: undefined, exists: undefined }, { ...expected, deleted: undefined, exists: undefined }, p);
        assert.deepStrictEqual(after.deleted ?? null, at === undefined ? null : at, p);
      }),
      RUNS,
    );
  });
});

describe('VRL round trips: counterexamples the properties found (fixed)', () => {
  it('a quoted key or value keeps its spaces (parse_logfmt, parse_key_value)', () => {
    assert.deepStrictEqual(value('parse_logfmt!(encode_logfmt!({"a ": "", "a": ""}))'), { 'a ': '', a: '' });
    assert.deepStrictEqual(value('parse_key_value!(s\'" k "=" v ";b=1\', field_delimiter: ";")'), { ' k ': ' v ', b: '1' });
  });

  it('parse_key_value with an empty delimiter is an error, not an endless loop', () => {
    assert.equal(compile('parse_key_value!("a=1", "=", "")').run({}).kind, 'error');
    assert.equal(compile('parse_key_value!("a=1", "", " ")').run({}).kind, 'error');
  });

  it('encode_key_value quotes a key or value holding a delimiter, and escapes only \\ and "', () => {
    assert.equal(value('encode_key_value!({":": "", "a": "x,y"}, key_value_delimiter: ":", field_delimiter: ",")'), '":":"",a:"x,y"');
    assert.equal(value('encode_logfmt!({"m": "two\\nlines \\"q\\" \\\\"})'), 'm="two\nlines \\"q\\" \\\\"');
    assert.deepStrictEqual(value('parse_logfmt!(encode_logfmt!({"m": "two\\nlines\\t\\"q\\" \\\\"}))'), { m: 'two\nlines\t"q" \\' });
  });

  it('format_timestamp writes %Y with 4 digits and parse_timestamp reads years 0-99 as such', () => {
    assert.equal(value("format_timestamp!(t'0999-12-31T23:59:59Z', \"%F %T\")"), '0999-12-31 23:59:59');
    assert.equal(value('to_string(parse_timestamp!("0099-12-31T23:59:59.999Z", "%+"))'), '0099-12-31T23:59:59.999Z');
  });

  it('to_unix_timestamp keeps microseconds beyond 2^53 and refuses nanoseconds beyond i64', () => {
    assert.equal(value('to_string(to_unix_timestamp(t\'2255-06-05T23:47:34.741237Z\', unit: "microseconds"))'), '9007199254741237');
    assert.equal(compile('to_unix_timestamp(t\'2262-04-11T23:47:16.855Z\', unit: "nanoseconds")').run({}).kind, 'error');
    assert.equal(value('to_string(to_unix_timestamp(t\'2262-04-11T23:47:16.854775807Z\', unit: "nanoseconds"))'), '9223372036854775807');
  });
});
