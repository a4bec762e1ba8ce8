// What a pod's container sees: its args with the paths under its ConfigMap and Secret volumes
// resolved to files holding the keys of a render, and the helm test Pod of a render.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHelmHook, type Container, type KubeObject } from './kube.js';

export interface PodView {
  containers: (Container & { volumeMounts?: { name: string; mountPath: string }[] })[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}

/**
 * A container's args with every path under one of its volume mounts replaced by a file holding
 * what the kubelet would put there: the key of the ConfigMap or Secret (found in `objects`) that
 * the volume names. A key the objects lack fails the test: the pod would not start.
 */
export function resolveMountedArgs(scratch: string, pod: PodView, container: PodView['containers'][number], objects: KubeObject[]): string[] {
  const dir = mkdtempSync(join(scratch, 'mounted-'));
  return (container.args ?? []).map((arg, index) => {
    const mount = container.volumeMounts?.find((m) => arg.startsWith(m.mountPath + '/'));
    if (!mount) return arg;
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const source = volume?.configMap
      ? objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap!.name)?.['data']
      : objects.find((o) => o.kind === 'Secret' && o.metadata.name === volume?.secret?.secretName)?.['stringData'];
    const key = arg.slice(mount.mountPath.length + 1);
    const content = (source as Record<string, string> | undefined)?.[key];
    assert.ok(content, `${arg}: key ${key} of volume ${mount.name} is in the rendered objects`);
    const file = join(dir, `${index}-${key}`);
    writeFileSync(file, content.replace(/^data_dir: .*$/m, `data_dir: ${dir}`));
    return file;
  });
}

/** The helm test Pod of a render, and its container. */
export function testPod(objects: KubeObject[]): { pod: PodView; container: PodView['containers'][number] } {
  const hooks = objects.filter((o) => o.kind === 'Pod' && isHelmHook(o));
  assert.equal(hooks.length, 1, 'one helm test Pod');
  assert.equal(hooks[0]!.metadata.annotations?.['helm.sh/hook'], 'test');
  const pod = hooks[0]!['spec'] as PodView;
  return { pod, container: pod.containers[0]! };
}

