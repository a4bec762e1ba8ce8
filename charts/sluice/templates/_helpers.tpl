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
app.kubernetes.io/component: agent
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

{{/* The port the agent's API listens on, taken from commonConfig.api.address ("host:port"). */}}
{{- define "sluice.apiPort" -}}
{{- $api := .Values.commonConfig.api | default dict }}
{{- if not $api.enabled }}
{{- fail "commonConfig.api.enabled must be true: the startup, liveness and readiness probes use the API" }}
{{- end }}
{{- $port := regexFind "[0-9]+$" (toString (default "0.0.0.0:8686" $api.address)) }}
{{- if not $port }}
{{- fail "commonConfig.api.address must end with a port, like 0.0.0.0:8686" }}
{{- end }}
{{- $port }}
{{- end }}

{{/* The data directory inside the container, from commonConfig.data_dir. */}}
{{- define "sluice.dataDir" -}}
{{- default "/var/lib/sluice" .Values.commonConfig.data_dir }}
{{- end }}

{{/* "true" when a kubernetes_logs source reads metadata from the kubelet (needs nodes/proxy). */}}
{{- define "sluice.kubeletMetadata" -}}
{{- $configs := list .Values.commonConfig .Values.customConfig.config }}
{{- range $config := $configs }}
{{- range $id, $source := (($config | default dict).sources | default dict) }}
{{- if and (eq (toString $source.type) "kubernetes_logs") (eq (toString $source.metadata_source) "kubelet") }}true{{ end }}
{{- end }}
{{- end }}
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
