import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathOnlyMetadataProvider, pathEventFields } from './pod-metadata-provider.js';
import { parsePodLogPath } from './pod-log-path.js';

const pod = (ns: string, name: string) => parsePodLogPath(`/var/log/pods/${ns}_${name}_uid-1/c/0.log`)!;

test('path-only metadata: frozen fields from the path', () => {
  const fields = new PathOnlyMetadataProvider({}).eventFields(pod('shop', 'web'));
  assert.deepEqual(fields, { kubernetes: { pod_namespace: 'shop', pod_name: 'web', pod_uid: 'uid-1', container_name: 'c' } });
  assert.ok(Object.isFrozen(fields) && Object.isFrozen(fields.kubernetes));
  assert.deepEqual(pathEventFields(pod('shop', 'web')), fields);
});

test("path-only metadata excludes sluice's own pod, named by the downward API", () => {
  const provider = new PathOnlyMetadataProvider({ SLUICE_POD_NAME: 'sluice-abcde', SLUICE_POD_NAMESPACE: 'sluice' });
  assert.equal(provider.isExcluded(pod('sluice', 'sluice-abcde')), true);
  assert.equal(provider.isExcluded(pod('sluice', 'sluice-fghij')), false);
  assert.equal(provider.isExcluded(pod('other', 'sluice-abcde')), false);
  assert.equal(new PathOnlyMetadataProvider({}).isExcluded(pod('sluice', 'sluice-abcde')), false);
});
