{{/*
The spec of a run's Job: the CronJob's jobTemplate and the first-run hook Job share it, so a run
started by Helm is exactly a scheduled one.
*/}}
{{- define "kube-lego.jobSpec" -}}
{{- include "kube-lego.checkRunBudget" . -}}
{{- $fullname := include "kube-lego.fullname" . -}}
backoffLimit: {{ .Values.job.backoffLimit }}
activeDeadlineSeconds: {{ .Values.job.activeDeadlineSeconds }}
template:
  metadata:
    labels:
      {{- include "kube-lego.labels" . | nindent 6 }}
      app.kubernetes.io/component: job
    {{- with .Values.job.podAnnotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    serviceAccountName: {{ $fullname }}-job
    # The job calls the Kubernetes API: it needs its token.
    automountServiceAccountToken: true
    enableServiceLinks: false
    restartPolicy: Never
    # On SIGTERM the job lets its order finish for LEGO_STOP_GRACE_PERIOD, then removes its
    # tokens and routes, writes the status and releases the Lease: time for all of it.
    terminationGracePeriodSeconds: {{ .Values.job.terminationGracePeriodSeconds }}
    {{- with .Values.imagePullSecrets }}
    imagePullSecrets:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      {{- include "kube-lego.podSecurityContext" . | nindent 6 }}
    containers:
      - name: job
        image: {{ include "kube-lego.image" . }}
        imagePullPolicy: {{ .Values.image.pullPolicy }}
        # A small young generation; the job switches V8 to --optimize-for-size itself once
        # loaded (as manifests/cronjob.yaml says).
        args: ["--max-semi-space-size=1", "dist/jobs/main.js", "run"]
        {{- include "kube-lego.env" . | nindent 8 }}
        resources:
          {{- toYaml .Values.job.resources | nindent 10 }}
        securityContext:
          {{- include "kube-lego.containerSecurityContext" . | nindent 10 }}
        volumeMounts:
          - name: tmp
            mountPath: /tmp
    volumes:
      - name: tmp
        emptyDir:
          sizeLimit: 16Mi
    {{- with .Values.job.nodeSelector }}
    nodeSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .Values.job.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .Values.job.affinity }}
    affinity:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end -}}
