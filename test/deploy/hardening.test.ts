// The hardening and pod-spec properties the RFC asks for, held on the default chart render and on
// the committed raw YAML (which users apply as-is), for every role: the Agent (DaemonSet) below,
// then the Cluster (Deployment) and Aggregator (StatefulSet) roles.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { agentContainer, daemonSet, deployDir, helmTemplate, only, parseManifests, rawRoleObjects, renderDeploy, roleTemplate, workload, withoutHooks, type KubeObject, type RoleRender } from './kube.js';

const rawYaml = (): KubeObject[] =>
  ['sluice-global.yaml', 'sluice-namespaced.yaml'].flatMap((file) => parseManifests(readFileSync(join(deployDir, file), 'utf8')));

/** The container securityContext of every role: only the identity differs. */
const hardenedContainer = (identity: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean }) => ({
  ...identity,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});
const nonRoot = { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true };

const renders: [string, () => Promise<KubeObject[]>][] = [
  ['default chart render', () => helmTemplate({ kubeVersion: undefined })],
  ['raw YAML in deploy/kubernetes', async () => rawYaml()],
];

for (const [name, render] of renders) {
  describe(`hardening: ${name}`, () => {
    it('container securityContext: read-only root, no escalation, not privileged, no capabilities, seccomp', async () => {
      const context = agentContainer(daemonSet(await render())).securityContext;
      assert.deepEqual(context, hardenedContainer({ runAsUser: 0, runAsGroup: 0, runAsNonRoot: false }));
    });

    it('pod: RuntimeDefault seccomp, no fsGroup or sysctls, no host namespaces, no priority or resources', async () => {
      const ds = daemonSet(await render());
      const spec = ds.spec.template.spec;
      assert.deepEqual(spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
      assert.equal(spec['hostNetwork'], false);
      assert.equal(spec['hostPID'], undefined);
      assert.equal(spec['hostIPC'], undefined);
      assert.equal(spec['priorityClassName'], undefined);
      assert.equal(spec['runtimeClassName'], undefined);
      assert.equal(agentContainer(ds).resources, undefined);
      assert.equal(spec['automountServiceAccountToken'], true);
    });

    it('hostPath: /var/log read-only, the data dir read-write, nothing else', async () => {
      const ds = daemonSet(await render());
      const hostPaths = ds.spec.template.spec.volumes.filter((v) => v.hostPath);
      assert.deepEqual(
        hostPaths.map((v) => [v.name, v.hostPath?.path]),
        [['var-log', '/var/log'], ['data', '/var/lib/sluice']],
      );
      const mounts = agentContainer(ds).volumeMounts ?? [];
      assert.deepEqual(mounts.find((m) => m.name === 'var-log'), { name: 'var-log', mountPath: '/var/log', readOnly: true });
      assert.deepEqual(mounts.find((m) => m.name === 'data'), { name: 'data', mountPath: '/var/lib/sluice' });
      for (const mount of mounts.filter((m) => m.name.startsWith('config-'))) assert.equal(mount.readOnly, true, mount.name);
    });

    it('two --config files (common, custom), downward-API env, probes on the API endpoints', async () => {
      const ds = daemonSet(await render());
      const container = agentContainer(ds);
      assert.deepEqual(container.args?.slice(0, 4), [
        '--config', '/etc/sluice/common/sluice.yaml',
        '--config', '/etc/sluice/custom/sluice.yaml',
      ]);
      assert.ok(!container.args?.some((arg) => /watch|reload/.test(arg)), 'no config reload');
      const fieldRefs = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
      assert.deepEqual(fieldRefs, {
        SLUICE_NODE_NAME: 'spec.nodeName',
        SLUICE_POD_NAME: 'metadata.name',
        SLUICE_POD_NAMESPACE: 'metadata.namespace',
      });
      assert.deepEqual(container.startupProbe?.httpGet, { path: '/started', port: 'api' });
      assert.deepEqual(container.livenessProbe?.httpGet, { path: '/health', port: 'api' });
      assert.deepEqual(container.readinessProbe?.httpGet, { path: '/ready', port: 'api' });
      assert.deepEqual(container.ports?.map((p) => [p.name, p.containerPort]), [['api', 8686]]);
    });

    it('terminationGracePeriodSeconds a little above the graceful shutdown limit', async () => {
      const ds = daemonSet(await render());
      const args = agentContainer(ds).args ?? [];
      const limit = Number(args[args.indexOf('--graceful-shutdown-limit-secs') + 1]);
      const grace = ds.spec.template.spec['terminationGracePeriodSeconds'] as number;
      assert.equal(limit, 60);
      assert.ok(grace > limit && grace <= limit + 30, `grace ${grace} vs limit ${limit}`);
    });

    it('RollingUpdate without surge, runs on every node, excludes its own logs', async () => {
      const ds = daemonSet(await render());
      assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
      const tolerations = ds.spec.template.spec['tolerations'] as { operator: string; effect?: string; key?: string }[];
      assert.deepEqual(tolerations, [
        { operator: 'Exists', effect: 'NoSchedule' },
        { operator: 'Exists', effect: 'NoExecute' },
      ]);
      assert.equal(ds.spec.template.spec['affinity'], undefined, 'control-plane nodes are not excluded by default');
      assert.equal(ds.spec.template.metadata.annotations?.['sluice.dev/exclude'], 'true');
    });

    it('RBAC: read-only pods, namespaces and nodes; no wildcard, no secrets, no nodes/proxy', async () => {
      const role = only(await render(), 'ClusterRole');
      assert.deepEqual(role['rules'], [
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
      ]);
    });
  });
}

const { roles } = await renderDeploy();
const role = (name: RoleRender['role']): RoleRender => roles.find((entry) => entry.role === name)!;

/** What each role may call on the Kubernetes API: exactly these rules, nothing else. */
const expectedRbac: Record<'Cluster' | 'Aggregator', Record<string, unknown[]>> = {
  Cluster: {
    ClusterRole: [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['list', 'watch'] }],
    Role: [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['sluice-events'], verbs: ['get', 'update'] },
    ],
  },
  Aggregator: {},
};

for (const name of ['Cluster', 'Aggregator'] as const) {
  const renders: [string, () => Promise<KubeObject[]>][] = [
    [`default chart render, role ${name}`, async () => withoutHooks(await roleTemplate(role(name)))],
    [`raw YAML in deploy/kubernetes/${role(name).dir}`, async () => rawRoleObjects(role(name))],
  ];
  for (const [renderName, render] of renders) {
    describe(`hardening: ${renderName}`, () => {
      it('container securityContext: non-root uid 65532, read-only root, no escalation, no capabilities, seccomp', async () => {
        assert.deepEqual(agentContainer(workload(await render())).securityContext, hardenedContainer(nonRoot));
      });

      it('pod: no host path, no host namespaces, no priority or resources; the token only where the API is called', async () => {
        const spec = workload(await render()).spec.template.spec;
        assert.deepEqual(spec.volumes.filter((v) => v.hostPath), []);
        assert.equal(spec['hostNetwork'], false);
        assert.equal(spec['hostPID'], undefined);
        assert.equal(spec['hostIPC'], undefined);
        assert.equal(spec['priorityClassName'], undefined);
        assert.equal(spec['tolerations'], undefined, 'no taint tolerated by default (the Agent\'s tolerations are its own)');
        assert.equal(agentContainer(workload(await render())).resources, undefined);
        assert.equal(spec['automountServiceAccountToken'], name === 'Cluster');
        const expectedPodContext = name === 'Aggregator'
          ? { seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' }
          : { seccompProfile: { type: 'RuntimeDefault' } };
        assert.deepEqual(spec.securityContext, expectedPodContext);
        for (const mount of agentContainer(workload(await render())).volumeMounts ?? []) {
          if (mount.name.startsWith('config-')) assert.equal(mount.readOnly, true, mount.name);
        }
      });

      it(`RBAC: exactly the rules its sources call (${name === 'Cluster' ? 'events list/watch, its Lease' : 'none'})`, async () => {
        const objects = await render();
        const rbacKinds = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'];
        const rules = Object.fromEntries(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').map((o) => [o.kind, o['rules']]));
        assert.deepEqual(rules, expectedRbac[name]);
        const bindings = objects.filter((o) => o.kind.endsWith('RoleBinding'));
        assert.equal(bindings.length, Object.keys(expectedRbac[name]).length);
        for (const binding of bindings) {
          const roleRef = binding['roleRef'] as { kind: string; name: string };
          assert.ok(objects.some((o) => o.kind === roleRef.kind && o.metadata.name === roleRef.name), `${binding.metadata.name} binds a role of this render`);
          assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: role(name).release, namespace: 'sluice' }]);
        }
        if (name === 'Aggregator') assert.deepEqual(objects.filter((o) => rbacKinds.includes(o.kind)), []);
      });

      it('probes on the API endpoints, two --config files, a grace period above the shutdown limit', async () => {
        const ds = workload(await render());
        const container = agentContainer(ds);
        assert.deepEqual(container.args?.slice(0, 4), ['--config', '/etc/sluice/common/sluice.yaml', '--config', '/etc/sluice/custom/sluice.yaml']);
        assert.deepEqual(container.startupProbe?.httpGet, { path: '/started', port: 'api' });
        assert.deepEqual(container.livenessProbe?.httpGet, { path: '/health', port: 'api' });
        assert.deepEqual(container.readinessProbe?.httpGet, { path: '/ready', port: 'api' });
        assert.equal(ds.spec.template.spec['terminationGracePeriodSeconds'], 70);
        assert.equal(ds.spec.template.metadata.annotations?.['sluice.dev/exclude'], 'true');
      });
    });
  }
}

describe('hardening: the helm test Pod of every role', () => {
  for (const entry of roles) {
    it(`${entry.role}: non-root, read-only root, no capabilities, no token, no host path, never restarted`, async () => {
      const objects = await roleTemplate(entry);
      const pods = objects.filter((o) => o.kind === 'Pod');
      assert.equal(pods.length, 1);
      const spec = pods[0]!['spec'] as { containers: { securityContext: unknown }[]; volumes: { hostPath?: unknown }[]; [key: string]: unknown };
      assert.deepEqual(spec.containers.map((c) => c.securityContext), [hardenedContainer(nonRoot)]);
      assert.equal(spec['automountServiceAccountToken'], false);
      assert.equal(spec['restartPolicy'], 'Never');
      assert.equal(spec['serviceAccountName'], undefined, 'the namespace\'s default account, with no token mounted');
      assert.deepEqual(spec.volumes.filter((v) => v.hostPath), []);
    });
  }
});
