import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setField } from '../../core/event.js';
import { StreamLabels } from './labels.js';

describe('StreamLabels', () => {
  const labels = new StreamLabels({ namespace: '{{ kubernetes.pod_namespace }}', 'pod_*': '{{ kubernetes.pod_labels }}' });
  const podA = Object.freeze({ pod_namespace: 'shop', pod_labels: Object.freeze({ app: 'web' }) });
  const podB = Object.freeze({ pod_namespace: 'search', pod_labels: Object.freeze({ app: 'api' }) });

  it('renders per shared metadata object, and again for another or a copied-on-write one', () => {
    const first = labels.render({ message: 'a', kubernetes: podA });
    assert.deepEqual(first, { labels: { namespace: 'shop', pod_app: 'web' }, key: 'namespace="shop",pod_app="web"' });
    assert.equal(labels.render({ message: 'b', kubernetes: podA }), first, 'the same file: rendered once');
    assert.deepEqual(labels.render({ message: 'c', kubernetes: podB }).labels, { namespace: 'search', pod_app: 'api' });

    const fields: Record<string, unknown> = { message: 'd', kubernetes: podA };
    setField(fields, ['kubernetes', 'pod_namespace'], 'changed'); // a transform: copy-on-write
    assert.deepEqual(labels.render(fields).labels, { namespace: 'changed', pod_app: 'web' });
    assert.equal(podA.pod_namespace, 'shop');
  });

  it('renders per event when a label reads a field outside the shared object', () => {
    const mixed = new StreamLabels({ namespace: '{{ kubernetes.pod_namespace }}', stream: '{{ stream }}' });
    assert.equal(mixed.render({ stream: 'stdout', kubernetes: podA }).key, 'namespace="shop",stream="stdout"');
    assert.equal(mixed.render({ stream: 'stderr', kubernetes: podA }).key, 'namespace="shop",stream="stderr"');
  });
});
