import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pod } from '../../../test/k8s/fixtures.js';
import { KubernetesFieldsBuilder } from './enrichment.js';
import type { Pod } from './kube-types.js';
import { kubernetesMetadataOptionsSchema, resolveNodeName, DEFAULT_POD_METADATA_WAIT_MS } from './options.js';
import { buildPodInfo } from './pod-info.js';

function info(overrides: Partial<Parameters<typeof pod>[0]> = {}) {
  const raw = pod({ name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'n' }, owner: { kind: 'StatefulSet', name: 'web' }, containers: ['app', 'proxy'], priorityClassName: 'high', ...overrides }) as unknown as Pod;
  raw.metadata.uid ??= 'uid-1';
  return buildPodInfo(raw, { namespace: { labels: { team: 'a' }, annotations: {} }, nodeLabels: { zone: 'z1' }, self: undefined });
}

describe('options schema', () => {
  it('fills Vector-compatible defaults', () => {
    const options = kubernetesMetadataOptionsSchema.parse({});
    assert.equal(options.delay_deletion_ms, 60_000);
    assert.equal(options.pod_metadata_wait_ms, DEFAULT_POD_METADATA_WAIT_MS);
    assert.equal(options.metadata_source, 'kubernetes_api');
    assert.equal(options.pod_annotation_fields.pod_name, 'kubernetes.pod_name');
    assert.equal(options.namespace_annotation_fields.namespace_labels, 'kubernetes.namespace_labels');
    assert.equal(options.node_annotation_fields.node_labels, 'kubernetes.node_labels');
  });

  it('rejects unknown keys and bad paths', () => {
    assert.throws(() => kubernetesMetadataOptionsSchema.parse({ pod_annotation_fields: { pod_nam: 'x' } }));
    assert.throws(() => kubernetesMetadataOptionsSchema.parse({ pod_annotation_fields: { pod_name: 'a..b' } }));
    assert.throws(() => kubernetesMetadataOptionsSchema.parse({ metadata_source: 'etcd' }));
  });

  it('takes the node name from SLUICE_NODE_NAME at runtime, or fails clearly', () => {
    assert.equal(resolveNodeName({}, { SLUICE_NODE_NAME: 'n1' }), 'n1');
    assert.equal(resolveNodeName({ self_node_name: 'n2' }, { SLUICE_NODE_NAME: 'n1' }), 'n2');
    assert.throws(() => resolveNodeName({}, {}), /SLUICE_NODE_NAME and VECTOR_SELF_NODE_NAME/);
  });

  it('falls back to VECTOR_SELF_NODE_NAME, after SLUICE_NODE_NAME and self_node_name', () => {
    assert.equal(resolveNodeName({}, { VECTOR_SELF_NODE_NAME: 'v1' }), 'v1');
    assert.equal(resolveNodeName({}, { SLUICE_NODE_NAME: 'n1', VECTOR_SELF_NODE_NAME: 'v1' }), 'n1');
    assert.equal(resolveNodeName({ self_node_name: 'n2' }, { VECTOR_SELF_NODE_NAME: 'v1' }), 'n2');
  });
});

describe('KubernetesFieldsBuilder', () => {
  it('builds the Vector field set under kubernetes, plus workload and container fields', () => {
    const builder = new KubernetesFieldsBuilder(kubernetesMetadataOptionsSchema.parse({}));
    const fields = builder.forContainer(info(), 'proxy');
    assert.deepEqual(fields, {
      kubernetes: {
        pod_name: 'web-0',
        pod_namespace: 'shop',
        pod_uid: 'uid-1',
        pod_ip: '10.0.0.1',
        pod_ips: ['10.0.0.1'],
        pod_labels: { app: 'web' },
        pod_annotations: { note: 'n' },
        pod_node_name: 'node-a',
        pod_owner: 'StatefulSet/web',
        container_name: 'proxy',
        container_id: 'containerd://proxy-web-0',
        container_image: 'registry.example/proxy:1.0',
        container_image_id: `registry.example/proxy@sha256:${'ab'.repeat(32)}`,
        workload: { kind: 'StatefulSet', name: 'web' },
        namespace_labels: { team: 'a' },
        node_labels: { zone: 'z1' },
      },
    });
    assert.ok(Object.isFrozen(fields) && Object.isFrozen(fields.kubernetes));
  });

  it('renames and disables fields, adds extra_pod_fields by path', () => {
    const builder = new KubernetesFieldsBuilder(
      kubernetesMetadataOptionsSchema.parse({
        pod_annotation_fields: { pod_name: '.k8s.pod', pod_annotations: '', pod_labels: 'labels' },
        node_annotation_fields: { node_labels: '' },
        extra_pod_fields: { 'kubernetes.priority': 'spec.priorityClassName', 'kubernetes.first_container': 'spec.containers.0.name', 'kubernetes.missing': 'spec.nope' },
      }),
    );
    const fields = builder.forContainer(info(), 'app') as Record<string, any>;
    assert.equal(fields.k8s.pod, 'web-0');
    assert.deepEqual(fields.labels, { app: 'web' });
    assert.equal(fields.kubernetes.pod_name, undefined);
    assert.equal('pod_annotations' in fields.kubernetes, false);
    assert.equal('node_labels' in fields.kubernetes, false);
    assert.equal(fields.kubernetes.priority, 'high');
    assert.equal(fields.kubernetes.first_container, 'app');
    assert.equal('missing' in fields.kubernetes, false);
  });

  it('computes once per pod version and container', () => {
    const builder = new KubernetesFieldsBuilder(kubernetesMetadataOptionsSchema.parse({}));
    const first = info();
    assert.equal(builder.forContainer(first, 'app'), builder.forContainer(first, 'app'));
    assert.notEqual(builder.forContainer(first, 'app'), builder.forContainer(first, 'proxy'));
    const changed = info({ labels: { app: 'web', v: '2' } });
    assert.deepEqual((builder.forContainer(changed, 'app') as any).kubernetes.pod_labels, { app: 'web', v: '2' });
  });

  it('gives path-only fields for a pod not yet known', () => {
    const builder = new KubernetesFieldsBuilder(kubernetesMetadataOptionsSchema.parse({}));
    assert.deepEqual(builder.fromPath({ namespace: 'shop', podName: 'web-0', uid: 'uid-1', container: 'app' }), {
      kubernetes: { pod_namespace: 'shop', pod_name: 'web-0', pod_uid: 'uid-1', container_name: 'app' },
    });
  });
});
