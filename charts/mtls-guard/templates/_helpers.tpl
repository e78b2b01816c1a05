{{/* The release's base name, at most 52 characters so suffixes fit in 63. */}}
{{- define "mtls-guard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mtls-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mtls-guard.labels" -}}
{{ include "mtls-guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The webhook configuration's name, also the only one the server may patch. */}}
{{- define "mtls-guard.webhookName" -}}{{ include "mtls-guard.fullname" . }}{{- end -}}

{{/* The Secret that holds the serving certificate in every certificate mode. */}}
{{- define "mtls-guard.certSecret" -}}
{{- if eq .Values.certificates.mode "provided" -}}
{{- required "certificates.provided.secretName is required when certificates.mode is provided" .Values.certificates.provided.secretName -}}
{{- else -}}
{{- include "mtls-guard.fullname" . }}-certs
{{- end -}}
{{- end -}}

{{- define "mtls-guard.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}
