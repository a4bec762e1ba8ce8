// The Helm chart, rendered by the real helm: lint, value sets and what each of them changes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { agentContainer, chartDir, daemonSet, helmTemplate, mskv, only, tool, withoutHooks, type KubeObject } from './kube.js';

const valueSets = readdirSync(join(chartDir, 'ci'))
  .filter((name) => name.endsWith('-values.yaml'))
  .map((name) => join(chartDir, 'ci', name));

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
const rules = (objects: KubeObject[]): Rule[] => only(objects, 'ClusterRole')['rules'] as Rule[];
const grantsNodesProxy = (objects: KubeObject[]) => rules(objects).some((rule) => rule.resources.includes('nodes/proxy'));

describe('helm chart', () => {
  it('passes helm lint --strict with the defaults and with every value set', async () => {
    assert.ok(valueSets.length >= 3, 'value sets in charts/sluice/ci');
    await tool('helm', ['lint', '--strict', chartDir]);
    for (const file of valueSets) await tool('helm', ['lint', '--strict', chartDir, '--values', file]);
  });

  it('renders for the MSKV and refuses the version below it', async () => {
    const [major, minor] = mskv().split('.').map(Number);
    await helmTemplate({ kubeVersion: `${mskv()}.0` });
    await assert.rejects(helmTemplate({ kubeVersion: `${major}.${minor! - 1}.0` }), /kubeVersion/);
  });

  it('references a user-made Secret <fullname>-custom by default and grants no nodes/proxy', async () => {
    const objects = await helmTemplate({ release: 'logs', ns: 'observability' });
    const ds = daemonSet(objects);
    assert.equal(ds.metadata.name, 'logs-sluice');
    assert.equal(ds.metadata.namespace, 'observability');
    const custom = ds.spec.template.spec.volumes.find((v) => v.name === 'config-custom');
    assert.deepEqual(custom?.secret, { secretName: 'logs-sluice-custom' });
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
    assert.equal(grantsNodesProxy(objects), false);
    const binding = only(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'logs-sluice', namespace: 'observability' }]);
  });

  it('inline config: a Secret with the config, resources, priority class, PodMonitor, shutdown limit', async () => {
    const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'inline-config-values.yaml')] });
    const secret = only(objects, 'Secret');
    assert.equal(secret.metadata.name, 'sluice-custom');
    assert.match((secret['stringData'] as Record<string, string>)['sluice.yaml']!, /type: console/);
    const ds = daemonSet(objects);
    const container = agentContainer(ds);
    assert.deepEqual(container.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    assert.equal(ds.spec.template.spec['priorityClassName'], 'system-node-critical');
    assert.equal(ds.spec.template.spec['terminationGracePeriodSeconds'], 40);
    const args = container.args ?? [];
    assert.equal(args[args.indexOf('--graceful-shutdown-limit-secs') + 1], '30');
    assert.equal(args[args.indexOf('--log-level') + 1], 'debug');
    const monitor = only(objects, 'PodMonitor');
    assert.equal(monitor.metadata.labels?.['release'], 'prometheus');
    assert.deepEqual((monitor['spec'] as { selector: unknown }).selector, { matchLabels: ds.spec.selector.matchLabels });
  });

  it('a changed configuration changes the pod template (Helm rolls the agents)', async () => {
    const before = daemonSet(await helmTemplate()).spec.template.metadata.annotations?.['checksum/config'];
    const after = daemonSet(await helmTemplate({ set: ['commonConfig.sources.kubernetes_logs.exclude_paths_glob_patterns={**/x/**}'] }))
      .spec.template.metadata.annotations?.['checksum/config'];
    assert.ok(before && after);
    assert.notEqual(before, after);
  });

  it('watchConfig: off by default; on, the agent gets --watch-config and a config change no longer rolls the pods', async () => {
    const byDefault = daemonSet(await helmTemplate());
    assert.equal(agentContainer(byDefault).args?.includes('--watch-config'), false);
    assert.ok(byDefault.spec.template.metadata.annotations?.['checksum/config']);
    const watching = daemonSet(await helmTemplate({ set: ['watchConfig=true'] }));
    assert.equal(agentContainer(watching).args?.includes('--watch-config'), true);
    assert.equal(watching.spec.template.metadata.annotations?.['checksum/config'], undefined);
  });

  it('kubelet metadata, PVC, Docker nodes, no control plane, extras', async () => {
    const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'pvc-kubelet-values.yaml')] });
    assert.equal(grantsNodesProxy(objects), true);
    assert.ok(rules(objects).some((rule) => rule.resources.includes('events')), 'extra rule appended');
    const ds = daemonSet(objects);
    const spec = ds.spec.template.spec;
    const container = agentContainer(ds);
    assert.deepEqual(spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'sluice-data' });
    assert.equal(container.volumeMounts?.find((m) => m.name === 'data')?.subPathExpr, '$(SLUICE_NODE_NAME)');
    assert.deepEqual(spec.volumes.find((v) => v.name === 'config-custom')?.configMap, { name: 'my-sluice-config' });
    assert.ok(container.args?.includes('/etc/sluice/custom/custom.toml'));
    const docker = container.volumeMounts?.find((m) => m.mountPath === '/var/lib/docker/containers');
    assert.equal(docker?.readOnly, true);
    assert.deepEqual(container.ports, [{ name: 'api', containerPort: 9598, protocol: 'TCP' }]);
    assert.deepEqual(spec['affinity'], {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] }],
        },
      },
    });
    assert.ok(container.env?.some((e) => e.name === 'HTTPS_PROXY'));
    const nodeIp = container.env?.find((e) => e.name === 'SLUICE_NODE_IP');
    assert.equal(nodeIp?.valueFrom?.fieldRef?.fieldPath, 'status.hostIP', 'the kubelet address for metadata_source: kubelet');
    assert.ok(container.volumeMounts?.some((m) => m.mountPath === '/etc/ssl/corporate'));
    assert.equal(ds.spec.template.metadata.annotations?.['example.com/team'], 'platform');
    assert.equal(ds.spec.template.metadata.annotations?.['sluice.dev/exclude'], 'true');
  });

  it('external identity: no RBAC objects, the given service account, the image by digest', async () => {
    const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'external-identity-values.yaml')] });
    assert.deepEqual(withoutHooks(objects).map((o) => o.kind).sort(), ['ConfigMap', 'DaemonSet']);
    const ds = daemonSet(objects);
    assert.equal(ds.metadata.name, 'log-agent');
    assert.equal(ds.spec.template.spec['serviceAccountName'], 'logging-agent');
    assert.match(agentContainer(ds).image, /^registry\.example\.com\/mirror\/sluice@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(ds.spec.template.spec.volumes.find((v) => v.name === 'config-custom')?.secret, { secretName: 'sluice-sinks' });
    assert.equal(ds.spec.template.spec['tolerations'], undefined);
  });

  it('OnDelete updates drop the rollingUpdate defaults (the API rejects both together)', async () => {
    const ds = daemonSet(await helmTemplate({ set: ['updateStrategy.type=OnDelete'] }));
    assert.deepEqual(ds.spec.updateStrategy, { type: 'OnDelete' });
  });

  it('rejects contradictory or mistyped values with a clear message', async () => {
    await assert.rejects(
      helmTemplate({ set: ['customConfig.existingSecret=a', 'customConfig.existingConfigMap=b'] }),
      /set at most one of config, existingSecret and existingConfigMap/,
    );
    await assert.rejects(helmTemplate({ set: ['imagee.tag=1'] }), /additional properties 'imagee' not allowed/);
    await assert.rejects(helmTemplate({ set: ['commonConfig.api.enabled=false'] }), /commonConfig\/api\/enabled/);
    await assert.rejects(
      helmTemplate({ set: ['collectControlPlaneNodes=false', 'affinity.nodeAffinity.x=1'] }),
      /cannot be combined with affinity.nodeAffinity/,
    );
  });
});
