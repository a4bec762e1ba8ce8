// parse_xml: fast-xml-parser reads the document (entities, CDATA, well-formedness); this file turns
// its ordered tree into the value VRL's parse_xml makes (roxmltree's reading, as VRL documents it):
// text-only elements flatten to their value, attributes become `@name` keys beside `text`, repeated
// children become arrays, an empty element is `{}`.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { defineFunctions } from '../function.js';
import { parseI64, T, VrlError, type Obj } from '../value.js';
import { fail } from './util.js';

/** Deeper documents are refused: the conversion recurses, and a log line has no business this deep. */
const MAX_DEPTH = 256;
const ATTRIBUTES = ':@';
const TEXT = '#text';
const COMMENT = '#comment';

interface XmlOptions {
  trim: boolean;
  includeAttr: boolean;
  attrPrefix: string;
  textKey: string;
  alwaysUseTextKey: boolean;
  parseBool: boolean;
  parseNull: boolean;
  parseNumber: boolean;
}

/** One node of fast-xml-parser's ordered tree: `{ tag: children, ':@': attributes }` or `{ '#text': s }`. */
type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  removeNSPrefix: true,
  // Kept so that they count as children, as in roxmltree (`<p><!-- c -->x</p>` is `{ text: x }`).
  commentPropName: COMMENT,
  maxNestedTags: MAX_DEPTH,
  // Names are data here (the conversion writes own properties only): `toString` stays `toString`.
  // The parser itself refuses `__proto__`, `constructor` and `prototype` (a parse error).
  onDangerousProperty: (name: string) => name,
});

function parseXml(text: string, options: XmlOptions): Obj {
  // Entity declarations can expand exponentially ("billion laughs"): refused rather than bounded.
  if (/<!ENTITY/i.test(text)) fail('unable to parse xml: entity declarations (<!ENTITY) are not supported');
  const source = options.trim ? text.replace(/>\s+</g, '><') : text;
  let tree: XmlNode[];
  try {
    const valid = XMLValidator.validate(source);
    if (valid !== true) return fail(`unable to parse xml: ${valid.err.msg} at ${valid.err.line}:${valid.err.col}`);
    tree = parser.parse(source) as XmlNode[];
  } catch (error) {
    if (error instanceof VrlError) throw error;
    return fail(`unable to parse xml: ${(error as Error).message}`);
  }
  const root = tree.filter((node) => elementName(node) !== undefined);
  if (root.length !== 1) fail(`unable to parse xml: a document has one root element, this has ${root.length}`);
  return children(mergeTexts(tree), undefined, options, 0);
}

/** The tag of an element node, or undefined for text, comments and processing instructions. */
function elementName(node: XmlNode): string | undefined {
  for (const key in node) {
    if (key === ATTRIBUTES) continue;
    return key === TEXT || key === COMMENT || key.startsWith('?') ? undefined : key;
  }
  return undefined;
}

/** Attributes as roxmltree has them: local names, namespace declarations left out. */
function attributesOf(node: XmlNode): Array<[string, string]> {
  const attrs = node[ATTRIBUTES] as Record<string, unknown> | undefined;
  if (attrs === undefined) return [];
  return Object.entries(attrs)
    .filter(([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'))
    .map(([name, value]) => [name, String(value)]);
}

/** An element's (or the document's) children and attributes as one object; repeated names make arrays. */
function children(nodes: XmlNode[], attrs: Array<[string, string]> | undefined, options: XmlOptions, depth: number): Obj {
  const out: Obj = {};
  const add = (key: string, value: unknown) => {
    if (!Object.hasOwn(out, key)) out[key] = value;
    else {
      const existing = out[key];
      if (Array.isArray(existing)) existing.push(value);
      else out[key] = [existing, value];
    }
  };
  if (attrs && options.includeAttr) for (const [name, value] of attrs) add(options.attrPrefix + name, value);
  for (const node of nodes) {
    const name = elementName(node);
    if (name !== undefined) add(name, element(node, name, options, depth + 1));
    else if (Object.hasOwn(node, TEXT)) add(options.textKey, scalar(String(node[TEXT]), options));
  }
  return out;
}

function element(node: XmlNode, name: string, options: XmlOptions, depth: number): unknown {
  if (depth > MAX_DEPTH) fail(`unable to parse xml: elements nest deeper than ${MAX_DEPTH} levels`);
  const nodes = mergeTexts((node[name] as XmlNode[] | undefined) ?? []);
  const attrs = attributesOf(node);
  if ((attrs.length > 0 && options.includeAttr) || (attrs.length === 0 && options.alwaysUseTextKey)) return children(nodes, attrs, options, depth);
  if (nodes.length !== 1) return children(nodes, attrs, options, depth);
  const only = nodes[0]!;
  const childName = elementName(only);
  if (childName !== undefined) return { [childName]: element(only, childName, options, depth + 1) };
  if (Object.hasOwn(only, TEXT)) return scalar(String(only[TEXT]), options);
  return children(nodes, attrs, options, depth); // a lone comment or instruction: nothing of it shows
}

/** Adjacent text and CDATA nodes as one, so that `<a>x<![CDATA[y]]></a>` is one child, as in roxmltree. */
function mergeTexts(nodes: XmlNode[]): XmlNode[] {
  if (nodes.length < 2) return nodes;
  const out: XmlNode[] = [];
  for (const node of nodes) {
    const last = out.at(-1);
    if (last !== undefined && Object.hasOwn(node, TEXT) && Object.hasOwn(last, TEXT)) out[out.length - 1] = { [TEXT]: String(last[TEXT]) + String(node[TEXT]) };
    else out.push(node);
  }
  return out;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;

/** A text node's value: null, a boolean, an integer or a float where enabled, else the text. */
function scalar(text: string, options: XmlOptions): unknown {
  if (options.parseNull && (text === '' || text === 'null')) return null;
  if (options.parseBool && (text === 'true' || text === 'false')) return text === 'true';
  if (!options.parseNumber) return text;
  if (/^[+-]?\d+$/.test(text)) {
    const int = parseI64(text);
    if (int !== undefined) return int;
  }
  if (FLOAT.test(text)) {
    const float = Number(text);
    if (Number.isFinite(float)) return float;
  }
  return text;
}

const bool = (v: unknown, fallback: boolean) => (typeof v === 'boolean' ? v : fallback);
const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);

defineFunctions([
  {
    name: 'parse_xml',
    params: [
      { name: 'value', type: T.bytes, required: true },
      { name: 'trim', type: T.boolean },
      { name: 'include_attr', type: T.boolean },
      { name: 'attr_prefix', type: T.bytes },
      { name: 'text_key', type: T.bytes },
      { name: 'always_use_text_key', type: T.boolean },
      { name: 'parse_bool', type: T.boolean },
      { name: 'parse_null', type: T.boolean },
      { name: 'parse_number', type: T.boolean },
    ],
    returns: T.object,
    fallible: true,
    call: ([v, trim, includeAttr, attrPrefix, textKey, alwaysUseTextKey, parseBool, parseNull, parseNumber]) =>
      parseXml(String(v), {
        trim: bool(trim, true),
        includeAttr: bool(includeAttr, true),
        attrPrefix: str(attrPrefix, '@'),
        textKey: str(textKey, 'text'),
        alwaysUseTextKey: bool(alwaysUseTextKey, false),
        parseBool: bool(parseBool, true),
        parseNull: bool(parseNull, true),
        parseNumber: bool(parseNumber, true),
      }),
  },
]);
