import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPodLogFileName, parseLegacyContainerLink, parsePodLogPath, podLogSequence } from './pod-log-path.js';

test('parses current, rotated and compressed container log paths', () => {
  const base = '/var/log/pods/kube-system_coredns-5d78c9869d-abcde_0b5e0f1c-1111-2222-3333-444455556666/coredns';
  assert.deepEqual(parsePodLogPath(`${base}/0.log`), {
    podNamespace: 'kube-system',
    podName: 'coredns-5d78c9869d-abcde',
    podUid: '0b5e0f1c-1111-2222-3333-444455556666',
    containerName: 'coredns',
    restartCount: 0,
    rotation: 'current',
    rotatedAt: undefined,
  });
  assert.equal(parsePodLogPath(`${base}/3.log.20240102-030405`)?.rotation, 'rotated');
  assert.equal(parsePodLogPath(`${base}/3.log.20240102-030405`)?.restartCount, 3);
  assert.equal(parsePodLogPath(`${base}/3.log.20240102-030405.gz`)?.rotation, 'compressed');
  assert.equal(parsePodLogPath(`${base}/3.log.20240102-030405.gz`)?.rotatedAt, '20240102-030405');
});

test('rejects what kubelet does not write', () => {
  const base = '/var/log/pods/ns_pod_uid/c';
  for (const name of ['0.log.20240102-030405.gz.tmp', 'x.log', '0.log.1', '0.logs', '0.log.2024']) {
    assert.equal(parsePodLogPath(`${base}/${name}`), undefined, name);
  }
  assert.equal(parsePodLogPath('/var/log/pods/ns_pod/c/0.log'), undefined);
  assert.equal(parsePodLogPath('/var/log/pods/ns_pod_uid_extra/c/0.log'), undefined);
});

test('rotated files rank before the current file of the same container instance', () => {
  const dir = '/l/ns_p_u/c';
  const seq = (name: string) => podLogSequence(`${dir}/${name}`, parsePodLogPath(`${dir}/${name}`)!);
  assert.equal(seq('0.log').key, seq('0.log.20240101-000000').key);
  assert.notEqual(seq('0.log').key, seq('1.log').key);
  assert.ok(seq('0.log.20240101-000000').rank < seq('0.log.20240102-000000').rank);
  assert.ok(seq('0.log.20240102-000000').rank < seq('0.log').rank);
  assert.equal(seq('0.log.20240101-000000.gz').rank, seq('0.log.20240101-000000').rank);
});

test('parses legacy /var/log/containers link names', () => {
  const id = 'a'.repeat(64);
  assert.deepEqual(parseLegacyContainerLink(`/var/log/containers/web-1_default_nginx-${id}.log`), {
    podName: 'web-1',
    podNamespace: 'default',
    containerName: 'nginx',
    containerId: id,
  });
  assert.equal(parseLegacyContainerLink('/var/log/containers/nope.log'), undefined);
});

test('isPodLogFileName: the names parsePodLogPath reads, nothing else', () => {
  for (const name of ['0.log', '12.log', '0.log.20260101-000000', '0.log.20260101-000000.gz']) {
    assert.equal(isPodLogFileName(name), true, name);
    assert.notEqual(parsePodLogPath(`/var/log/pods/ns_pod_uid/c/${name}`), undefined, name);
  }
  for (const name of ['0.log.20260101-000000.gz.tmp', 'a.log', '0.log.1', '0.logx', '.log']) {
    assert.equal(isPodLogFileName(name), false, name);
    assert.equal(parsePodLogPath(`/var/log/pods/ns_pod_uid/c/${name}`), undefined, name);
  }
});
