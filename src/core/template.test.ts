import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldTemplate, templateProblem } from './template.js';

describe('field templates', () => {
  it('accepts literal text and well-formed references', () => {
    for (const ok of ['/out/plain.log', '/out/{{ kubernetes.pod_namespace }}.ndjson', '{{a}}-{{ b.c }}', 'x}}y', '{{ "dotted.key".x }}']) {
      assert.equal(templateProblem(ok), undefined, ok);
    }
  });

  it('names an unclosed "{{", an empty or spaced reference and a bad field path', () => {
    assert.equal(templateProblem('/out/{{ ns.ndjson'), 'unclosed "{{" at character 6 of "/out/{{ ns.ndjson" (a field reference is "{{ field.path }}")');
    assert.equal(templateProblem('a-{{ ok }}-{{ x'), 'unclosed "{{" at character 12 of "a-{{ ok }}-{{ x" (a field reference is "{{ field.path }}")');
    assert.match(templateProblem('{{ }}')!, /"\{\{ \}\}" in "\{\{ \}\}" is not a field reference/);
    assert.match(templateProblem('{{ a b }}')!, /"\{\{ a b \}\}" in .* is not a field reference/);
    assert.match(templateProblem('{{ a..b }}')!, /invalid field path "a\.\.b"/);
  });

  it('a FieldTemplate refuses a malformed template instead of rendering its braces literally', () => {
    assert.throws(() => new FieldTemplate('/out/{{ kubernetes.pod_namespace.ndjson'), /unclosed "\{\{"/);
    assert.equal(new FieldTemplate('/out/{{ a.b }}.log').render({ a: { b: 'x' } }), '/out/x.log');
  });
});
