/**
 * The parts of Kubernetes objects sluice reads, as raw JSON (the wire shape: timestamps are
 * strings). Everything else in the object is kept and reachable by `extra_pod_fields`.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  deletionTimestamp?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ContainerSpec {
  name: string;
  image?: string;
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  containerID?: string;
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    ephemeralContainers?: ContainerSpec[];
    [key: string]: unknown;
  };
  status?: {
    podIP?: string;
    podIPs?: { ip: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    ephemeralContainerStatuses?: ContainerStatus[];
    [key: string]: unknown;
  };
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; message?: string; reason?: string };
}
