{{/*
The pod template of every role's workload (DaemonSet, Deployment, StatefulSet). What differs by
role: the Agent mounts the node's /var/log and keeps its checkpoints on the node, as uid 0 (the log
files are root-owned, 0640); the Cluster and Aggregator roles read no host file and run as a
non-root uid, the Aggregator with its data directory on a PersistentVolumeClaim.
*/}}
{{- define "sluice.podTemplate" -}}
{{- $role := include "sluice.role" . }}
{{- $dataDir := include "sluice.dataDir" . }}
{{- $sourcePorts := include "sluice.sourcePorts" . | fromJsonArray }}
{{- $affinity := deepCopy (.Values.affinity | default dict) }}
{{- if eq $role "Agent" }}
{{- if not .Values.collectControlPlaneNodes }}
{{- if $affinity.nodeAffinity }}
{{- fail "collectControlPlaneNodes: false adds a nodeAffinity; it cannot be combined with affinity.nodeAffinity (put the control-plane exclusion into your own nodeAffinity instead)" }}
{{- end }}
{{- $_ := set $affinity "nodeAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (dict "nodeSelectorTerms" (list (dict "matchExpressions" (list (dict "key" "node-role.kubernetes.io/control-plane" "operator" "DoesNotExist")))))) }}
{{- end }}
{{- else if not $affinity }}
{{- /* Replicas on different nodes where possible: one node going down takes one replica. */}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "sluice.selectorLabels" . | fromYaml)) }}
{{- $_ := set $affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term))) }}
{{- end }}
{{- /* Unset tolerations: the role's default. The Agent runs on every node, tainted or not. */}}
{{- $tolerations := .Values.tolerations }}
{{- if and (kindIs "invalid" $tolerations) (eq $role "Agent") }}
{{- $tolerations = list (dict "operator" "Exists" "effect" "NoSchedule") (dict "operator" "Exists" "effect" "NoExecute") }}
{{- end }}
{{- /* The identity: uid 0 for the Agent (see values.yaml, securityContext), the image's non-root uid otherwise. */}}
{{- $identity := dict "runAsUser" 0 "runAsGroup" 0 "runAsNonRoot" false }}
{{- if ne $role "Agent" }}
{{- $identity = dict "runAsUser" 65532 "runAsGroup" 65532 "runAsNonRoot" true }}
{{- end }}
{{- $securityContext := mergeOverwrite $identity (deepCopy (.Values.securityContext | default dict)) }}
{{- $podSecurityContext := deepCopy (.Values.podSecurityContext | default dict) }}
{{- if and (eq $role "Aggregator") .Values.persistence.enabled }}
{{- /* A fresh volume is root-owned: let the kubelet hand it to the non-root uid (once, not at every start). */}}
{{- $podSecurityContext = mergeOverwrite (dict "fsGroup" 65532 "fsGroupChangePolicy" "OnRootMismatch") $podSecurityContext }}
{{- end }}
metadata:
  labels:
    {{- include "sluice.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # sluice does not collect its own logs: a loop that could flood the sinks.
    sluice.dev/exclude: "true"
    {{- if not .Values.watchConfig }}
    # Read once at start: a change of the chart-managed configuration changes this, rolling the pods.
    # With watchConfig the agents reload the mounted files in place instead.
    checksum/config: {{ list (include "sluice.commonConfig" . | fromJson) .Values.customConfig | toJson | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "sluice.serviceAccountName" . }}
  {{- if or (ne $role "Aggregator") (include "sluice.usesKubernetesApi" .) }}
  # The agent watches the Kubernetes API with the service account token.
  automountServiceAccountToken: true
  {{- else }}
  # No source of this role calls the Kubernetes API: no token in the pod.
  automountServiceAccountToken: false
  {{- end }}
  # The API server is reached over the cluster network; the host network is not needed.
  hostNetwork: false
  enableServiceLinks: false
  # A little above the agent's own shutdown limit, so the agent, not the kubelet, ends the drain.
  terminationGracePeriodSeconds: {{ add .Values.gracefulShutdownLimitSeconds .Values.terminationGraceMarginSeconds }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.dnsPolicy }}
  dnsPolicy: {{ . }}
  {{- end }}
  {{- with .Values.dnsConfig }}
  dnsConfig:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.hostAliases }}
  hostAliases:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: sluice
      image: {{ include "sluice.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      # Two files, common then custom. Reloaded on SIGHUP; on a change of the mounted files only
      # with watchConfig (off by default: ConfigMap updates are eventually consistent).
      args:
        - --config
        - /etc/sluice/common/sluice.yaml
        - --config
        - /etc/sluice/custom/{{ .Values.customConfig.key }}
        - --graceful-shutdown-limit-secs
        - {{ .Values.gracefulShutdownLimitSeconds | quote }}
        - --log-level
        - {{ .Values.logLevel | quote }}
        {{- if .Values.watchConfig }}
        - --watch-config
        {{- end }}
        {{- with .Values.extraArgs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        {{- include "sluice.env" . | nindent 8 }}
      {{- with .Values.envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        - name: api
          containerPort: {{ include "sluice.apiPort" . }}
          protocol: TCP
        {{- range $sourcePorts }}
        - name: {{ .name }}
          containerPort: {{ .port }}
          protocol: TCP
        {{- end }}
      {{- with .Values.probes.startup }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.probes.liveness }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.probes.readiness }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $securityContext | nindent 8 }}
      volumeMounts:
        - name: config-common
          mountPath: /etc/sluice/common
          readOnly: true
        - name: config-custom
          mountPath: /etc/sluice/custom
          readOnly: true
        {{- if eq $role "Agent" }}
        # /var/log/pods (the log files) and /var/log/containers (symlinks into /var/log/pods).
        - name: var-log
          mountPath: /var/log
          readOnly: true
        {{- if .Values.dockerContainersLogs.enabled }}
        # Docker json-file nodes: /var/log/pods links into this directory.
        - name: docker-containers
          mountPath: {{ .Values.dockerContainersLogs.hostPath }}
          readOnly: true
        {{- end }}
        # Checkpoints: must outlive the pod.
        - name: data
          mountPath: {{ $dataDir }}
          {{- if .Values.dataDir.existingClaim }}
          subPathExpr: $(SLUICE_NODE_NAME)
          {{- end }}
        {{- else }}
        # Checkpoints and disk buffers{{ if eq $role "Aggregator" }} (on the pod's PersistentVolumeClaim){{ end }}.
        - name: data
          mountPath: {{ $dataDir }}
        {{- end }}
        # The root filesystem is read-only; a small scratch space for libraries that want one.
        - name: tmp
          mountPath: /tmp
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with .Values.extraContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumes:
    {{- include "sluice.configVolumes" . | nindent 4 }}
    {{- if eq $role "Agent" }}
    - name: var-log
      hostPath:
        path: /var/log
        type: Directory
    {{- if .Values.dockerContainersLogs.enabled }}
    - name: docker-containers
      hostPath:
        path: {{ .Values.dockerContainersLogs.hostPath }}
        type: Directory
    {{- end }}
    - name: data
      {{- if .Values.dataDir.existingClaim }}
      persistentVolumeClaim:
        claimName: {{ .Values.dataDir.existingClaim }}
      {{- else }}
      hostPath:
        path: {{ .Values.dataDir.hostPath }}
        type: DirectoryOrCreate
      {{- end }}
    {{- else if not (and (eq $role "Aggregator") .Values.persistence.enabled) }}
    # No persistent volume: checkpoints and disk buffers live as long as the pod.
    - name: data
      emptyDir: {}
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* The agent container's environment (also given to the helm test Pod, for ${VAR} in the config). */}}
{{- define "sluice.env" -}}
- name: SLUICE_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: SLUICE_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: SLUICE_POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if include "sluice.kubeletMetadata" . }}
# metadata_source: kubelet reads https://$(SLUICE_NODE_IP):10250/pods.
- name: SLUICE_NODE_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The two configuration volumes (common part, custom part). */}}
{{- define "sluice.configVolumes" -}}
- name: config-common
  configMap:
    name: {{ include "sluice.fullname" . }}-common
- name: config-custom
  {{- include "sluice.customConfigVolume" . | trim | nindent 2 }}
{{- end }}

{{/* The workload's update strategy: the user's, else the role's default. */}}
{{- define "sluice.updateStrategy" -}}
{{- $role := include "sluice.role" . }}
{{- $strategy := deepCopy (.Values.updateStrategy | default dict) }}
{{- $allowed := dict "Agent" (list "RollingUpdate" "OnDelete") "Cluster" (list "RollingUpdate" "Recreate") "Aggregator" (list "RollingUpdate" "OnDelete") }}
{{- if not $strategy }}
{{- if eq $role "Agent" }}
{{- /* No maxSurge: two agents on one node would share the data directory. */}}
{{- $strategy = dict "type" "RollingUpdate" "rollingUpdate" (dict "maxUnavailable" 1) }}
{{- else if eq $role "Cluster" }}
{{- /* The new replica is up (a standby) before an old one stops. */}}
{{- $strategy = dict "type" "RollingUpdate" "rollingUpdate" (dict "maxSurge" 1 "maxUnavailable" 0) }}
{{- else }}
{{- $strategy = dict "type" "RollingUpdate" }}
{{- end }}
{{- end }}
{{- $type := default "RollingUpdate" $strategy.type }}
{{- if not (has $type (get $allowed $role)) }}
{{- fail (printf "updateStrategy.type %q is not valid for role %s (%s)" $type $role (join ", " (get $allowed $role))) }}
{{- end }}
{{- if ne $type "RollingUpdate" }}
{{- /* The API rejects rollingUpdate beside another type. */}}
{{- $strategy = dict "type" $type }}
{{- end }}
{{- toYaml $strategy }}
{{- end }}
