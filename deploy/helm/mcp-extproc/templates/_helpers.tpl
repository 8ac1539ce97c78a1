{{- define "mcp-extproc.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-extproc.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mcp-extproc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-extproc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mcp-extproc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "mcp-extproc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "mcp-extproc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mcp-extproc.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mcp-extproc.configMapName" -}}
{{- default (include "mcp-extproc.fullname" .) .Values.policy.existingConfigMap -}}
{{- end -}}

{{/* The Service's cluster-local name, as Envoy clusters name it. */}}
{{- define "mcp-extproc.serviceHost" -}}
{{- printf "%s.%s.svc.cluster.local" (include "mcp-extproc.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* ext_proc settings shared by the Istio EnvoyFilter (see envoy/README.md). */}}
{{- define "mcp-extproc.extProcFilter" -}}
name: envoy.filters.http.ext_proc
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
  grpc_service:
    envoy_grpc:
      cluster_name: {{ printf "outbound|%v||%s" .Values.ports.grpc (include "mcp-extproc.serviceHost" .) | quote }}
    timeout: 10s
  failure_mode_allow: false
  processing_mode:
    request_header_mode: SEND
    request_body_mode: BUFFERED
    request_trailer_mode: SKIP
    response_header_mode: SEND
    response_body_mode: BUFFERED
    response_trailer_mode: SKIP
  allow_mode_override: true
  message_timeout: {{ .Values.istio.envoyFilter.messageTimeout }}
  max_message_timeout: 30s
  metadata_options:
    receiving_namespaces:
      untyped: [mcp_extproc]
{{- end -}}

{{/*
The identity headers Envoy must remove from client requests: identityHeaders
plus every header the inline policy names in mcp.identity (user, tenant,
server id, claims) and mcp.forward_headers, lower-cased, without repeats.
*/}}
{{- define "mcp-extproc.identityHeaders" -}}
{{- $hs := list -}}
{{- range .Values.identityHeaders }}{{ $hs = append $hs (lower .) }}{{ end -}}
{{- if and (not .Values.policy.existingConfigMap) .Values.policy.content -}}
{{- $mcp := (fromYaml .Values.policy.content).mcp | default dict -}}
{{- $id := $mcp.identity | default dict -}}
{{- range list $id.user_header $id.tenant_header $id.server_id_header $id.claims_header }}{{ if . }}{{ $hs = append $hs (lower .) }}{{ end }}{{ end -}}
{{- range ($mcp.forward_headers | default list) }}{{ $hs = append $hs (lower .) }}{{ end -}}
{{- end -}}
{{- toJson (uniq $hs) -}}
{{- end -}}
