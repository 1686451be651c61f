{{/* The base name of every object: the release name if it contains the chart's name. */}}
{{- define "kube-lego.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object (the kustomize base has only the first). */}}
{{- define "kube-lego.labels" -}}
app.kubernetes.io/name: kube-lego
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
The image: image.repository is required (no image is published for this chart yet, and a
default would only fail later, as ImagePullBackOff); the tag defaults to the chart's appVersion.
*/}}
{{- define "kube-lego.image" -}}
{{- $hint := printf "image.repository is required: build and push the image first, then name it. With Docker: `docker build -t REGISTRY/kube-lego-ts:%s . && docker push REGISTRY/kube-lego-ts:%s`; without: `npm run image:build && skopeo copy oci:.tmp/image/oci:%s docker://REGISTRY/kube-lego-ts:%s`. Then: helm install ... --set image.repository=REGISTRY/kube-lego-ts (see docs/operating.md)" .Chart.AppVersion .Chart.AppVersion .Chart.AppVersion .Chart.AppVersion -}}
{{- printf "%s:%s" (required $hint .Values.image.repository) (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* True (non-empty) when the gce provider is enabled. */}}
{{- define "kube-lego.gce" -}}
{{- if has "gce" (splitList "," (.Values.settings.supportedIngressProvider | toString | nospace | lower)) -}}true{{- end -}}
{{- end -}}

{{/*
The CronJob schedule: .Values.schedule, else derived from settings.checkInterval: whole hours
dividing 24 (8h: every 8 hours at minute 0; 24h: daily at 00:00) or whole minutes dividing 60
(15m: every 15 minutes). See values.yaml.
*/}}
{{- define "kube-lego.schedule" -}}
{{- if .Values.schedule -}}
{{- .Values.schedule -}}
{{- else -}}
{{- $interval := .Values.settings.checkInterval | toString | trim -}}
{{- $hint := printf "settings.checkInterval %q has no cron equivalent: use whole hours dividing 24 (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h) or whole minutes dividing 60, or set `schedule`" $interval -}}
{{- if regexMatch "^[0-9]+h$" $interval -}}
{{- $h := trimSuffix "h" $interval | atoi -}}
{{- if eq $h 24 -}}0 0 * * *
{{- else if eq $h 1 -}}0 * * * *
{{- else if and (gt $h 1) (lt $h 24) (eq (mod 24 $h) 0) -}}{{ printf "0 */%d * * *" $h }}
{{- else -}}{{ fail $hint }}
{{- end -}}
{{- else if regexMatch "^[0-9]+m$" $interval -}}
{{- $m := trimSuffix "m" $interval | atoi -}}
{{- if eq $m 60 -}}0 * * * *
{{- else if and (gt $m 0) (lt $m 60) (eq (mod 60 $m) 0) -}}{{ printf "*/%d * * * *" $m }}
{{- else -}}{{ fail $hint }}
{{- end -}}
{{- else -}}
{{- fail $hint -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security profile, shared by both pods. */}}
{{- define "kube-lego.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kube-lego.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Settings ConfigMap and LEGO_NAMESPACE, shared by both containers. */}}
{{- define "kube-lego.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "kube-lego.fullname" . }}-settings
env:
  - name: LEGO_NAMESPACE
    valueFrom:
      fieldRef:
        fieldPath: metadata.namespace
{{- end -}}

{{/*
A duration of whole hours, minutes and seconds (8h, 1h30m, 90s; the string is the argument) in
seconds. Callers check the form first: anything else counts as 0.
*/}}
{{- define "kube-lego.seconds" -}}
{{- $h := regexFind "[0-9]+h" . | trimSuffix "h" | default "0" | atoi -}}
{{- $m := regexFind "[0-9]+m" . | trimSuffix "m" | default "0" | atoi -}}
{{- $s := regexFind "[0-9]+s" . | trimSuffix "s" | default "0" | atoi -}}
{{- add (mul $h 3600) (mul $m 60) $s -}}
{{- end -}}

{{/*
Fails the render when settings.runBudget leaves the run no time to finish inside
job.activeDeadlineSeconds: after the budget come the order in progress (up to
settings.stopGracePeriod), the cleanup and the status write, allowed 5 minutes. A Job killed at
its deadline writes no status at all. Checked when both durations are whole hours, minutes and
seconds; the job validates any other form itself.
*/}}
{{- define "kube-lego.checkRunBudget" -}}
{{- $budget := .Values.settings.runBudget | toString | trim -}}
{{- $grace := .Values.settings.stopGracePeriod | toString | trim -}}
{{- $whole := "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$" -}}
{{- if and (regexMatch $whole $budget) (regexMatch $whole $grace) -}}
{{- $deadline := .Values.job.activeDeadlineSeconds | int -}}
{{- $needed := add (include "kube-lego.seconds" $budget | atoi) 300 (include "kube-lego.seconds" $grace | atoi) -}}
{{- if gt $needed $deadline -}}
{{- fail (printf "settings.runBudget %q, plus settings.stopGracePeriod %q and 5m to finish the run, exceeds job.activeDeadlineSeconds (%d): the Job would be killed before writing its status; lower runBudget or raise the deadline" $budget $grace $deadline) -}}
{{- end -}}
{{- end -}}
{{- end -}}
