{{/* Names shared by the templates. */}}

{{- define "flink-operator.name" -}}
flink-operator
{{- end -}}

{{- define "flink-operator.labels" -}}
app.kubernetes.io/name: {{ include "flink-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "flink-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flink-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flink-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The namespaces JobManager RBAC goes to: the watched ones, else the release namespace. */}}
{{- define "flink-operator.jobNamespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- join "," .Values.watchNamespaces -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "flink-operator.webhookConfigurationName" -}}
flink-operator-{{ .Release.Namespace }}-webhook-configuration
{{- end -}}

{{- define "flink-operator.certManagerCertificate" -}}
flink-operator-serving-cert
{{- end -}}

{{/* Rules of the operator's own (Cluster)Role: exactly the calls the operator makes, see docs/install.md. */}}
{{- define "flink-operator.operatorRules" -}}
- apiGroups: [flink.apache.org]
  resources: [flinkdeployments, flinksessionjobs, flinkstatesnapshots]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [flink.apache.org]
  resources: [flinkdeployments/status, flinksessionjobs/status, flinkstatesnapshots/status]
  verbs: [get, update, patch]
- apiGroups: [flink.apache.org]
  resources: [flinkdeployments/finalizers, flinksessionjobs/finalizers, flinkstatesnapshots/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [get, list, watch, create, update, patch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end -}}

{{/* Rules of the JobManagers' Role (native Kubernetes mode creates TaskManager pods and HA ConfigMaps). */}}
{{- define "flink-operator.jobRules" -}}
- apiGroups: [""]
  resources: [pods, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments, deployments/finalizers]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end -}}

{{/* "true" when operatorVolumes holds a volume of the given name: (list . "name"). */}}
{{- define "flink-operator.hasVolume" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- range $root.Values.operatorVolumes -}}
{{- if eq .name $name -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* Settings both webhooks share. */}}
{{- define "flink-operator.webhookCommon" -}}
admissionReviewVersions: [v1]
sideEffects: None
failurePolicy: {{ .Values.webhook.failurePolicy }}
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
{{- if .Values.watchNamespaces }}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: In
      values:
        {{- toYaml .Values.watchNamespaces | nindent 8 }}
{{- end }}
{{- end }}
{{- define "flink-operator.webhookAnnotations" -}}
{{- if .Values.webhook.certManager.enabled }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "flink-operator.certManagerCertificate" . }}
{{- end }}
{{- end }}
