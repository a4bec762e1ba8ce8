{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels: never change between releases (a DaemonSet selector is immutable). */}}
{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ include "sluice.component" . }}
app.kubernetes.io/part-of: sluice
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sluice.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The deployment role: Agent (DaemonSet), Cluster (Deployment) or Aggregator (StatefulSet). */}}
{{- define "sluice.role" -}}
{{- $role := toString .Values.role }}
{{- if not (has $role (list "Agent" "Cluster" "Aggregator")) }}
{{- fail (printf "role must be Agent, Cluster or Aggregator, not %q" $role) }}
{{- end }}
{{- $role }}
{{- end }}

{{/* The app.kubernetes.io/component label of the role. */}}
{{- define "sluice.component" -}}
{{- include "sluice.role" . | lower }}
{{- end }}

{{/* The values key holding the common part of the configuration for the role. */}}
{{- define "sluice.commonConfigKey" -}}
{{- $role := include "sluice.role" . }}
{{- if eq $role "Cluster" }}clusterConfig{{ else if eq $role "Aggregator" }}aggregatorConfig{{ else }}commonConfig{{ end }}
{{- end }}

{{/* The common part of the configuration for the role (a dict). */}}
{{- define "sluice.commonConfig" -}}
{{- index .Values (include "sluice.commonConfigKey" .) | default dict | toJson }}
{{- end }}

{{/* The port the agent's API listens on, taken from the role's config: api.address ("host:port"). */}}
{{- define "sluice.apiPort" -}}
{{- $key := include "sluice.commonConfigKey" . }}
{{- $api := (index .Values $key | default dict).api | default dict }}
{{- if not $api.enabled }}
{{- fail (printf "%s.api.enabled must be true: the startup, liveness and readiness probes use the API" $key) }}
{{- end }}
{{- $port := regexFind "[0-9]+$" (toString (default "0.0.0.0:8686" $api.address)) }}
{{- if not $port }}
{{- fail (printf "%s.api.address must end with a port, like 0.0.0.0:8686" $key) }}
{{- end }}
{{- $port }}
{{- end }}

{{/* The data directory inside the container, from the role's config: data_dir. */}}
{{- define "sluice.dataDir" -}}
{{- default "/var/lib/sluice" (index .Values (include "sluice.commonConfigKey" .) | default dict).data_dir }}
{{- end }}

{{/* Every source of the role's common part and of customConfig.config, as a JSON list of {id, source}. */}}
{{- define "sluice.sources" -}}
{{- $all := list }}
{{- range $config := list (index .Values (include "sluice.commonConfigKey" .)) .Values.customConfig.config }}
{{- range $id, $source := (($config | default dict).sources | default dict) }}
{{- $all = append $all (dict "id" $id "source" ($source | default dict)) }}
{{- end }}
{{- end }}
{{- toJson $all }}
{{- end }}

{{/* "true" when a source of the given type is configured. Call with (dict "ctx" . "type" "x"). */}}
{{- define "sluice.hasSource" -}}
{{- range $entry := include "sluice.sources" .ctx | fromJsonArray }}
{{- if eq (toString $entry.source.type) $.type }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when a kubernetes_logs source reads metadata from the kubelet (needs nodes/proxy). */}}
{{- define "sluice.kubeletMetadata" -}}
{{- range $entry := include "sluice.sources" . | fromJsonArray }}
{{- if and (eq (toString $entry.source.type) "kubernetes_logs") (eq (toString $entry.source.metadata_source) "kubelet") }}true{{ end }}
{{- end }}
{{- end }}

{{/* The Lease names of the kubernetes_events sources with leader election (JSON list), all in the release namespace. */}}
{{- define "sluice.leaseNames" -}}
{{- $names := list }}
{{- range $entry := include "sluice.sources" . | fromJsonArray }}
{{- if eq (toString $entry.source.type) "kubernetes_events" }}
{{- $election := $entry.source.leader_election | default dict }}
{{- if ne (toString $election.enabled) "false" }}
{{- with $election.lease_namespace }}
{{- if ne (toString .) $.Release.Namespace }}
{{- fail (printf "sources.%s.leader_election.lease_namespace: the chart grants Leases in the release namespace %q only; leave lease_namespace unset (or set rbac.create: false and grant it yourself)" $entry.id $.Release.Namespace) }}
{{- end }}
{{- end }}
{{- $names = append $names (default "sluice-events" $election.lease_name | toString) }}
{{- end }}
{{- end }}
{{- end }}
{{- $names | uniq | toJson }}
{{- end }}

{{/*
The ports of the sources that listen (an `address` ending in a port; opentelemetry defaults to
4318), as a JSON list of {name, port}: container ports and Service ports. The name is the source
id, made a valid port name (lowercase, "_" to "-", at most 15 characters).
*/}}
{{- define "sluice.sourcePorts" -}}
{{- $ports := list }}
{{- $seen := list (include "sluice.apiPort" .) }}
{{- $defaults := dict "opentelemetry" "0.0.0.0:4318" }}
{{- range $entry := include "sluice.sources" . | fromJsonArray }}
{{- $address := toString (default (get $defaults (toString $entry.source.type)) $entry.source.address) }}
{{- $port := regexFind ":[0-9]+$" $address | trimPrefix ":" }}
{{- if and $port (ne $port "0") (not (has $port $seen)) }}
{{- $seen = append $seen $port }}
{{- $name := regexReplaceAll "[^a-z0-9-]" ($entry.id | lower | replace "_" "-") "" | trunc 15 | trimSuffix "-" | trimPrefix "-" }}
{{- if not (regexMatch "[a-z]" $name) }}
{{- fail (printf "sources.%s: the chart names its port after the source id, which needs a letter (a-z)" $entry.id) }}
{{- end }}
{{- $ports = append $ports (dict "name" $name "port" (int $port)) }}
{{- end }}
{{- end }}
{{- toJson $ports }}
{{- end }}

{{/* "true" when the pods call the Kubernetes API (their token is mounted): a source that needs it, or extra rules. */}}
{{- define "sluice.usesKubernetesApi" -}}
{{- if or (include "sluice.hasSource" (dict "ctx" . "type" "kubernetes_logs")) (include "sluice.hasSource" (dict "ctx" . "type" "kubernetes_events")) .Values.rbac.extraRules }}true{{ end }}
{{- end }}

{{/* Where the custom configuration comes from: secret (chart-made or user-made) or configMap. */}}
{{- define "sluice.customConfigVolume" -}}
{{- $c := .Values.customConfig }}
{{- $sources := 0 }}
{{- if $c.config }}{{ $sources = add1 $sources }}{{ end }}
{{- if $c.existingSecret }}{{ $sources = add1 $sources }}{{ end }}
{{- if $c.existingConfigMap }}{{ $sources = add1 $sources }}{{ end }}
{{- if gt $sources 1 }}
{{- fail "customConfig: set at most one of config, existingSecret and existingConfigMap" }}
{{- end }}
{{- if $c.existingConfigMap }}
configMap:
  name: {{ $c.existingConfigMap }}
{{- else }}
secret:
  secretName: {{ default (printf "%s-custom" (include "sluice.fullname" .)) $c.existingSecret }}
{{- end }}
{{- end }}

{{/* The Service ports: service.ports when set, else the API and every listening source. */}}
{{- define "sluice.servicePorts" -}}
{{- if .Values.service.ports }}
{{- toYaml .Values.service.ports }}
{{- else }}
- name: api
  port: {{ include "sluice.apiPort" . }}
  targetPort: api
  protocol: TCP
{{- range include "sluice.sourcePorts" . | fromJsonArray }}
- name: {{ .name }}
  port: {{ .port }}
  targetPort: {{ .name }}
  protocol: TCP
{{- end }}
{{- end }}
{{- end }}

{{/*
The namespaces whose Events the kubernetes_events sources watch (JSON list): ["*"] when one of
them watches the whole cluster (no `namespaces`), then a ClusterRole grants the read; otherwise a
Role in each namespace does.
*/}}
{{- define "sluice.eventNamespaces" -}}
{{- $namespaces := list }}
{{- range $entry := include "sluice.sources" . | fromJsonArray }}
{{- if eq (toString $entry.source.type) "kubernetes_events" }}
{{- if $entry.source.namespaces }}
{{- $namespaces = concat $namespaces $entry.source.namespaces }}
{{- else }}
{{- $namespaces = append $namespaces "*" }}
{{- end }}
{{- end }}
{{- end }}
{{- if has "*" $namespaces }}["*"]{{ else }}{{ $namespaces | uniq | toJson }}{{ end }}
{{- end }}
