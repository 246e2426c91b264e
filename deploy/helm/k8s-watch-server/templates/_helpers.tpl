{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "kws.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: a release called k8s-watch-server (or containing the chart name)
yields k8s-watch-server, the names of the plain manifests in deploy/.
*/}}
{{- define "kws.fullname" -}}
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

{{- define "kws.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels; `app` keeps `kubectl get pods -l app=k8s-watch-server` working. */}}
{{- define "kws.selectorLabels" -}}
app: {{ include "kws.fullname" . }}
app.kubernetes.io/name: {{ include "kws.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kws.labels" -}}
helm.sh/chart: {{ include "kws.chart" . }}
{{ include "kws.selectorLabels" . }}
app.kubernetes.io/component: server
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kws.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kws.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kws.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Fails the render for settings the server cannot run with. */}}
{{- define "kws.validate" -}}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount must be 1 (got %v): RocksDB allows a single writer and each replica would keep its own full history; see deploy/README.md, Scaling" .Values.replicaCount) }}
{{- end }}
{{- if hasKey .Values.config "storagePath" }}
{{- fail "config.storagePath is set from persistence.mountPath; remove it from config" }}
{{- end }}
{{- if hasKey .Values.config "backupRoot" }}
{{- fail "config.backupRoot is set from persistence.mountPath (<mountPath>/backups); remove it from config" }}
{{- end }}
{{- if hasKey .Values.config "tls" }}
{{- fail "config.tls is set from tls.secretName; remove it from config" }}
{{- end }}
{{- if hasKey .Values.config "serverPort" }}
{{- fail "config.serverPort is set from containerPort; remove it from config" }}
{{- end }}
{{- if hasKey .Values.config "adminPort" }}
{{- fail "config.adminPort is set from adminPort; remove it from config" }}
{{- end }}
{{- if hasKey .Values.config "probePort" }}
{{- fail "config.probePort is set from probePort; remove it from config" }}
{{- end }}
{{- if .Values.hub.enabled }}
{{- if not (and .Values.config.hub .Values.config.hub.kafka .Values.config.hub.clusters) }}
{{- fail "hub.enabled needs config.hub.kafka (brokers) and config.hub.clusters; see deploy/README.md, A hub" }}
{{- end }}
{{- if ne (.Values.config.auth.mode | default "none") "none" }}
{{- fail "hub.enabled needs config.auth.mode none: a hub has no cluster to review tokens with; put an authenticating proxy in front" }}
{{- end }}
{{- if .Values.config.export }}
{{- fail "hub.enabled: a hub exports nothing; remove config.export" }}
{{- end }}
{{- end }}
{{- end }}
