// The chart's roles, rendered by the real helm: what each role deploys (Agent: DaemonSet; Cluster:
// Deployment with leader election, Service, PDB; Aggregator: StatefulSet with claims, Services,
// PDB, HPA), the pod-spec passthroughs showing up where they belong in every role, and the values
// each role refuses.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  agentContainer, chartDir, helmTemplate, only, roles, roleTemplate, tool, withoutHooks, workload,
  type KubeObject, type RoleRender,
} from './kube.js';

const allRoles = await roles();
const role = (name: RoleRender['role']): RoleRender => allRoles.find((entry) => entry.role === name)!;
const passthroughValues = join(chartDir, 'ci', 'passthrough-values.yaml');
const kinds = (objects: KubeObject[]) => withoutHooks(objects).map((o) => `${o.kind}/${o.metadata.name}`).sort();

interface ServicePort { name: string; port: number; targetPort: string | number; protocol: string; nodePort?: number }
const servicePorts = (service: KubeObject) => (service['spec'] as { ports: ServicePort[] }).ports;
const named = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} in ${kinds(objects).join(', ')}`);
  return found;
};

describe('chart roles', () => {
  it('helm lint --strict passes for every role, with its defaults and with every passthrough', async () => {
    for (const { role: name } of allRoles) {
      await tool('helm', ['lint', '--strict', chartDir, '--set', `role=${name}`]);
      await tool('helm', ['lint', '--strict', chartDir, '--set', `role=${name}`, '--values', passthroughValues]);
    }
  });

  it('Agent (the default): a DaemonSet and its RBAC, no Service, PDB or HPA', async () => {
    const objects = await helmTemplate();
    assert.deepEqual(kinds(objects), ['ClusterRole/sluice', 'ClusterRoleBinding/sluice', 'ConfigMap/sluice-common', 'DaemonSet/sluice', 'ServiceAccount/sluice']);
    assert.equal(only(objects, 'DaemonSet').metadata.labels?.['app.kubernetes.io/component'], 'agent');
  });

  it('Cluster: a 2-replica Deployment with kubernetes_events and the audit webhook, a Service, a PDB', async () => {
    const objects = await roleTemplate(role('Cluster'));
    assert.deepEqual(kinds(objects), [
      'ClusterRole/sluice-cluster', 'ClusterRoleBinding/sluice-cluster', 'ConfigMap/sluice-cluster-common',
      'Deployment/sluice-cluster', 'PodDisruptionBudget/sluice-cluster', 'Role/sluice-cluster-leases',
      'RoleBinding/sluice-cluster-leases', 'Service/sluice-cluster', 'ServiceAccount/sluice-cluster',
    ]);
    const deployment = workload(objects);
    assert.equal(deployment.spec['replicas'], 2);
    assert.deepEqual(deployment.spec['strategy'], { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    assert.equal(deployment.metadata.labels?.['app.kubernetes.io/component'], 'cluster');
    const common = (only(objects, 'ConfigMap')['data'] as Record<string, string>)['sluice.yaml']!;
    assert.match(common, /type: kubernetes_events/);
    assert.match(common, /type: http_server/);
    const container = agentContainer(deployment);
    // The Lease holder identity and namespace come from the downward API.
    const fieldRefs = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(fieldRefs['SLUICE_POD_NAME'], 'metadata.name');
    assert.equal(fieldRefs['SLUICE_POD_NAMESPACE'], 'metadata.namespace');
    assert.deepEqual(container.ports, [
      { name: 'api', containerPort: 8686, protocol: 'TCP' },
      { name: 'audit-webhook', containerPort: 8080, protocol: 'TCP' },
    ]);
    const service = only(objects, 'Service');
    assert.deepEqual(servicePorts(service), [
      { name: 'api', port: 8686, targetPort: 'api', protocol: 'TCP' },
      { name: 'audit-webhook', port: 8080, targetPort: 'audit-webhook', protocol: 'TCP' },
    ]);
    assert.deepEqual((service['spec'] as { selector: unknown }).selector, deployment.spec.selector.matchLabels);
    const pdb = only(objects, 'PodDisruptionBudget')['spec'] as { maxUnavailable: number; selector: { matchLabels: unknown } };
    assert.equal(pdb.maxUnavailable, 1);
    assert.deepEqual(pdb.selector.matchLabels, deployment.spec.selector.matchLabels);
    // Replicas spread over nodes.
    const affinity = deployment.spec.template.spec['affinity'] as { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: unknown } } }[] } };
    const term = affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]!.podAffinityTerm;
    assert.equal(term.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(term.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
  });

  it('Cluster with its CI values: Events of two namespaces by Roles there, Lease name, NodePort, ServiceMonitor on the Service', async () => {
    const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'cluster-values.yaml')] });
    const eventsRoles = objects.filter((o) => o.kind === 'Role' && o.metadata.name === 'sluice-events');
    assert.deepEqual(eventsRoles.map((o) => o.metadata.namespace), ['default', 'kube-system']);
    for (const role of eventsRoles) assert.deepEqual(role['rules'], [{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['list', 'watch'] }]);
    const eventsBindings = objects.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'sluice-events');
    assert.deepEqual(eventsBindings.map((o) => [o.metadata.namespace, o['subjects']]), ['default', 'kube-system'].map((ns) => [ns, [{ kind: 'ServiceAccount', name: 'sluice', namespace: 'sluice' }]]));
    assert.equal(objects.some((o) => o.kind === 'ClusterRole'), false, 'no cluster-wide read when the source names its namespaces');
    const lease = (named(objects, 'Role', 'sluice-leases')['rules'] as { resourceNames?: string[] }[]).find((rule) => rule.resourceNames);
    assert.deepEqual(lease?.resourceNames, ['cluster-events']);
    assert.equal(workload(objects).spec['replicas'], 3);
    const service = only(objects, 'Service');
    assert.equal((service['spec'] as { type: string }).type, 'NodePort');
    assert.deepEqual(servicePorts(service).map((p) => [p.name, p.port]), [['api', 8686], ['audit-webhook', 8443]]);
    assert.deepEqual(agentContainer(workload(objects)).ports?.map((p) => p.name), ['api', 'audit-webhook']);
    const monitor = only(objects, 'ServiceMonitor');
    const selector = (monitor['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const scraped = objects.filter((o) => o.kind === 'Service' && Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v));
    assert.deepEqual(scraped.map((o) => o.metadata.name), [service.metadata.name]);
    assert.equal((only(objects, 'PodDisruptionBudget')['spec'] as { minAvailable: number }).minAvailable, 2);
  });

  it('Aggregator: a StatefulSet with a claim per replica for the disk buffers, a Service, a headless Service, a PDB', async () => {
    const objects = await roleTemplate(role('Aggregator'));
    assert.deepEqual(kinds(objects), [
      'ConfigMap/sluice-aggregator-common', 'PodDisruptionBudget/sluice-aggregator', 'Service/sluice-aggregator',
      'Service/sluice-aggregator-headless', 'ServiceAccount/sluice-aggregator', 'StatefulSet/sluice-aggregator',
    ]);
    const statefulSet = workload(objects);
    assert.equal(statefulSet.spec['replicas'], 2);
    assert.equal(statefulSet.spec['serviceName'], 'sluice-aggregator-headless');
    const headless = named(objects, 'Service', 'sluice-aggregator-headless');
    assert.equal((headless['spec'] as { clusterIP: string }).clusterIP, 'None');
    const claims = statefulSet.spec['volumeClaimTemplates'] as { metadata: { name: string }; spec: { accessModes: string[]; resources: { requests: { storage: string } } } }[];
    assert.deepEqual(claims.map((c) => [c.metadata.name, c.spec.accessModes, c.spec.resources.requests.storage]), [['data', ['ReadWriteOnce'], '10Gi']]);
    // The claim is mounted at data_dir (disk buffers live under <data_dir>/buffer); no pod volume shadows it.
    const common = (only(objects, 'ConfigMap')['data'] as Record<string, string>)['sluice.yaml']!;
    const dataDir = /^data_dir: (.*)$/m.exec(common)?.[1];
    assert.equal(agentContainer(statefulSet).volumeMounts?.find((m) => m.name === 'data')?.mountPath, dataDir);
    assert.equal(statefulSet.spec.template.spec.volumes.find((v) => v.name === 'data'), undefined);
    // The native receiver the agents send to, on both Services.
    assert.match(common, /type: sluice/);
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      assert.deepEqual(servicePorts(service).map((p) => [p.name, p.port]), [['api', 8686], ['agents', 6000]]);
    }
    assert.equal(objects.some((o) => o.kind === 'HorizontalPodAutoscaler'), false, 'no HPA by default');
  });

  it('Aggregator: autoscaling adds an HPA on the StatefulSet and leaves replicas to it; no persistence means an emptyDir', async () => {
    const objects = await helmTemplate({ values: [join(chartDir, 'ci', 'aggregator-values.yaml')] });
    const hpa = only(objects, 'HorizontalPodAutoscaler')['spec'] as Record<string, unknown>;
    assert.deepEqual(hpa['scaleTargetRef'], { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'sluice' });
    assert.equal(hpa['minReplicas'], 3);
    assert.equal(hpa['maxReplicas'], 12);
    assert.deepEqual(hpa['metrics'], [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    ]);
    assert.deepEqual(hpa['behavior'], { scaleDown: { stabilizationWindowSeconds: 600 } });
    const statefulSet = workload(objects);
    assert.equal(statefulSet.spec['replicas'], undefined, 'the HPA owns the replica count');
    const claim = (statefulSet.spec['volumeClaimTemplates'] as { spec: { storageClassName: string; resources: { requests: { storage: string } } } }[])[0]!;
    assert.equal(claim.spec.storageClassName, 'fast-ssd');
    assert.equal(claim.spec.resources.requests.storage, '50Gi');

    const ephemeral = workload(await roleTemplate(role('Aggregator'), { set: ['persistence.enabled=false'] }));
    assert.equal(ephemeral.spec['volumeClaimTemplates'], undefined);
    assert.deepEqual(ephemeral.spec.template.spec.volumes.find((v) => v.name === 'data'), { name: 'data', emptyDir: {} });
    assert.equal(ephemeral.spec.template.spec.securityContext?.['fsGroup'], undefined, 'no fsGroup without a volume to hand over');
  });

  for (const { role: name, release } of allRoles) {
    it(`${name}: every pod-spec passthrough shows up where it belongs`, async () => {
      const objects = await helmTemplate({ release, values: [passthroughValues], set: [`role=${name}`] });
      const spec = workload(objects).spec.template.spec;
      const container = agentContainer(workload(objects));
      assert.deepEqual(container['envFrom' as keyof typeof container], [{ secretRef: { name: 'sink-credentials' } }, { configMapRef: { name: 'sink-settings' } }]);
      assert.deepEqual(spec.containers.map((c) => c.name), ['sluice', 'proxy'], 'extraContainers after the agent');
      assert.deepEqual((spec['initContainers'] as { name: string }[]).map((c) => c.name), ['wait-for-proxy-config']);
      assert.equal(spec['dnsPolicy'], 'None');
      assert.deepEqual(spec['dnsConfig'], { nameservers: ['10.96.0.10'], searches: ['sluice.svc.cluster.local', 'svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] });
      assert.deepEqual(spec['hostAliases'], [{ ip: '10.1.2.3', hostnames: ['logs.internal', 'logs'] }]);
      // The helm test Pod gets the agent's environment too: the configuration may read ${VAR} from it.
      const testPod = objects.find((o) => o.kind === 'Pod')!;
      const testContainer = (testPod['spec'] as { containers: { envFrom?: unknown }[] }).containers[0]!;
      assert.deepEqual(testContainer.envFrom, container['envFrom' as keyof typeof container]);

      const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
      if (name === 'Agent') assert.equal(pdbs.length, 0, 'no PDB for a DaemonSet (drains skip its pods)');
      else assert.deepEqual(pdbs.map((pdb) => (pdb['spec'] as { minAvailable: number }).minAvailable), [1]);

      // The ServiceMonitor scrapes the api port of exactly one Service, which selects the pods.
      const monitor = only(objects, 'ServiceMonitor')['spec'] as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[]; jobLabel: string };
      assert.deepEqual(monitor.endpoints, [{ port: 'api', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
      assert.equal(monitor.jobLabel, 'app.kubernetes.io/component');
      const scraped = objects.filter((o) => o.kind === 'Service' && Object.entries(monitor.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
      assert.equal(scraped.length, 1, `one scraped Service, not ${scraped.map((s) => s.metadata.name).join(', ')}`);
      const expected = { Agent: `${release}-metrics`, Cluster: release, Aggregator: `${release}-headless` }[name];
      assert.equal(scraped[0]!.metadata.name, expected);
      assert.ok(servicePorts(scraped[0]!).some((p) => p.name === 'api' && p.targetPort === 'api'));
      assert.deepEqual((scraped[0]!['spec'] as { selector: unknown }).selector, workload(objects).spec.selector.matchLabels);
    });
  }

  it('updateStrategy: the role\'s default, or the given one passed as is (rollingUpdate dropped beside another type)', async () => {
    assert.deepEqual(workload(await roleTemplate(role('Aggregator'))).spec.updateStrategy, { type: 'RollingUpdate' });
    const partitioned = workload(await roleTemplate(role('Aggregator'), { set: ['updateStrategy.type=RollingUpdate', 'updateStrategy.rollingUpdate.partition=1'] }));
    assert.deepEqual(partitioned.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 1 } });
    const recreate = workload(await roleTemplate(role('Cluster'), { set: ['updateStrategy.type=Recreate', 'updateStrategy.rollingUpdate.maxSurge=1'] }));
    assert.deepEqual(recreate.spec['strategy'], { type: 'Recreate' });
    assert.deepEqual(workload(await roleTemplate(role('Aggregator'), { set: ['updateStrategy.type=OnDelete'] })).spec.updateStrategy, { type: 'OnDelete' });
  });

  it('RBAC follows the sources: a kubernetes_events source added to the Agent gets the Events and Lease rules', async () => {
    const objects = await helmTemplate({ set: ['customConfig.config.sources.events.type=kubernetes_events', 'customConfig.config.sources.events.leader_election.lease_name=agent-events'] });
    const resources = (only(objects, 'ClusterRole')['rules'] as { resources: string[] }[]).flatMap((rule) => rule.resources);
    assert.deepEqual(resources, ['pods', 'namespaces', 'nodes', 'events']);
    assert.ok(JSON.stringify(only(objects, 'Role')['rules']).includes('"agent-events"'));
    const noElection = await roleTemplate(role('Cluster'), { set: ['clusterConfig.sources.kubernetes_events.leader_election.enabled=false'] });
    assert.equal(noElection.some((o) => o.kind === 'Role'), false, 'no Lease, no Lease rule');
  });

  it('refuses what a role cannot do, with a clear message', async () => {
    await assert.rejects(helmTemplate({ set: ['role=Sidecar'] }), /role/);
    await assert.rejects(roleTemplate(role('Cluster'), { set: ['autoscaling.enabled=true'] }), /autoscaling is for role Aggregator/);
    await assert.rejects(helmTemplate({ set: ['autoscaling.enabled=true'] }), /autoscaling is for role Aggregator, not Agent/);
    await assert.rejects(helmTemplate({ set: ['updateStrategy.type=Recreate'] }), /updateStrategy.type "Recreate" is not valid for role Agent/);
    await assert.rejects(roleTemplate(role('Cluster'), { set: ['updateStrategy.type=OnDelete'] }), /not valid for role Cluster/);
    await assert.rejects(roleTemplate(role('Cluster'), { set: ['podDisruptionBudget.minAvailable=1'] }), /set minAvailable or maxUnavailable, not both/);
    await assert.rejects(
      roleTemplate(role('Cluster'), { set: ['clusterConfig.sources.kubernetes_events.leader_election.lease_namespace=kube-system'] }),
      /lease_namespace: the chart grants Leases in the release namespace "sluice" only/,
    );
    await assert.rejects(roleTemplate(role('Cluster'), { set: ['service.enabled=false', 'serviceMonitor.enabled=true'] }), /serviceMonitor needs service.enabled/);
    await assert.rejects(roleTemplate(role('Aggregator'), { set: ['aggregatorConfig.api.enabled=false'] }), /aggregatorConfig\/api\/enabled/);
  });
});
