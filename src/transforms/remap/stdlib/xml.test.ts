// parse_xml: VRL's documented example and test cases (re-expressed), and hostile documents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileProgram } from '../program.js';

function xml(doc: string, args = ''): unknown {
  const outcome = compileProgram(`parse_xml!(.doc${args})`).run({ doc });
  return outcome.kind === 'ok' ? outcome.value : { error: outcome.message };
}

const errorOf = (result: unknown) => String((result as { error?: string }).error);

describe('parse_xml', () => {
  it("reads VRL's example: attributes as @keys, text beside them, numbers kept as text when asked", () => {
    const program = `value = s'<book category="CHILDREN"><title lang="en">Harry Potter</title><author>J K. Rowling</author><year>2005</year></book>'\nparse_xml!(value, text_key: "value", parse_number: false)`;
    const outcome = compileProgram(program).run({});
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.kind === 'ok' && outcome.value, {
      book: { '@category': 'CHILDREN', author: 'J K. Rowling', title: { '@lang': 'en', value: 'Harry Potter' }, year: '2005' },
    });
  });

  it('flattens text-only elements, makes arrays of repeated ones, {} of an empty one', () => {
    assert.deepEqual(xml('<a>test</a>'), { a: 'test' });
    assert.deepEqual(xml('<a href="https://vector.dev">test</a>'), { a: { '@href': 'https://vector.dev', text: 'test' } });
    assert.deepEqual(xml('<a href="https://vector.dev">test</a>', ', include_attr: false'), { a: 'test' });
    assert.deepEqual(xml('<b>test</b>', ', text_key: "node", always_use_text_key: true'), { b: { node: 'test' } });
    assert.deepEqual(xml('<a href="x">t</a>', ', attr_prefix: "_"'), { a: { _href: 'x', text: 't' } });
    assert.deepEqual(xml('<root><node attr="value"><message>foo</message></node></root>'), { root: { node: { '@attr': 'value', message: 'foo' } } });
    assert.deepEqual(xml('<root><node attr="value"><message>bar</message></node><node attr="value"><message>baz</message></node></root>'), {
      root: { node: [{ '@attr': 'value', message: 'bar' }, { '@attr': 'value', message: 'baz' }] },
    });
    assert.deepEqual(xml('<a attr="value"><b>one</b><c>two</c></a>'), { a: { '@attr': 'value', b: 'one', c: 'two' } });
    assert.deepEqual(xml('<a><b>one</b><b>two</b></a>'), { a: { b: ['one', 'two'] } });
  });

  it('skips the declaration and comments, which still count as children (as roxmltree)', () => {
    const doc = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- top -->\n<note>\n  <to>Tove</to>\n  <!-- inner -->\n  <from>Jani</from>\n  <body>Don\'t forget me this weekend!</body>\n</note>\n\n<!-- after -->\n';
    assert.deepEqual(xml(doc), { note: { to: 'Tove', from: 'Jani', body: "Don't forget me this weekend!" } });
    assert.deepEqual(xml('<p><?xml?>text123</p>'), { p: { text: 'text123' } });
  });

  it('parses booleans, null, integers (i64) and floats unless told not to; keeps untrimmed whitespace when asked', () => {
    const doc = '<data>\n<item>true</item>\n<item>false</item>\n<item>string!</item>\n<item />\n<item>null</item>\n<item>1</item>\n<item>1.5</item>\n<item>9223372036854775807</item>\n</data>';
    assert.deepEqual(xml(doc), { data: { item: [true, false, 'string!', {}, null, 1, 1.5, 9223372036854775807n] } });
    assert.deepEqual(xml(doc, ', parse_null: false, parse_bool: false, parse_number: false'), {
      data: { item: ['true', 'false', 'string!', {}, 'null', '1', '1.5', '9223372036854775807'] },
    });
    assert.deepEqual(xml('<root>  <a>test</a>  </root>', ', trim: false'), { root: { a: 'test', text: ['  ', '  '] } });
  });

  it('decodes entities and CDATA into one text; reads names without their namespace prefix', () => {
    assert.deepEqual(xml('<a>&amp;&lt;<![CDATA[<raw>]]></a>'), { a: '&<<raw>' });
    assert.deepEqual(xml('<x:a xmlns:x="urn:x" x:id="7"><x:b>v</x:b></x:a>'), { a: { '@id': '7', b: 'v' } });
    assert.deepEqual(xml('<a><toString>1</toString><hasOwnProperty>2</hasOwnProperty></a>'), { a: { toString: 1, hasOwnProperty: 2 } }, 'names are data');
  });

  it('fails clearly, never hangs, on what is not one well-formed document', () => {
    assert.match(errorOf(xml('true')), /unable to parse xml: .* at 1:1/);
    assert.match(errorOf(xml('<a><b></a>')), /unable to parse xml: Expected closing tag 'b'/);
    assert.match(errorOf(xml('<a/><b/>')), /unable to parse xml/);
    assert.match(errorOf(xml('<a><__proto__>x</__proto__></a>')), /unable to parse xml/, 'the parser refuses prototype names');
    // Entity expansion ("billion laughs") is refused before parsing.
    const laughs = '<!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>';
    assert.match(errorOf(xml(laughs)), /entity declarations \(<!ENTITY\) are not supported/);
    // Deep nesting is an error, not a stack overflow.
    assert.match(errorOf(xml('<a>'.repeat(100_000) + '</a>'.repeat(100_000))), /unable to parse xml: Maximum nested tags exceeded/);
  });
});
