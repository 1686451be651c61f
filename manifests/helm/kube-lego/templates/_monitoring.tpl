{{/*
settings.checkInterval in seconds, for the alerts that count missed runs. Whole hours, minutes and
seconds (8h, 1h30m, 90s); anything else fails the render with a message naming the value.
*/}}
{{- define "kube-lego.checkIntervalSeconds" -}}
{{- $interval := .Values.settings.checkInterval | toString | trim -}}
{{- if not (regexMatch "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$" $interval) -}}
{{- fail (printf "monitoring.prometheusRule: settings.checkInterval %q must be whole hours, minutes and seconds (e.g. 8h, 1h30m) for the alerts to count missed runs" $interval) -}}
{{- end -}}
{{- include "kube-lego.seconds" $interval -}}
{{- end -}}

{{/*
The alerting rules of docs/monitoring.md, as a Prometheus rule file's `groups`. Series are
aggregated over the responder replicas (each serves the same status) by `max`.
*/}}
{{- define "kube-lego.ruleGroups" -}}
{{- $twice := mul 2 (include "kube-lego.checkIntervalSeconds" . | atoi) -}}
{{- $rule := .Values.monitoring.prometheusRule -}}
{{- $days := $rule.expiryDays | toString -}}
- name: kube-lego
  rules:
    - alert: KubeLegoCertificateExpiringSoon
      # Less than expiryDays left, or less than a third of the lifetime if that is shorter
      # (short-lived certificates); the job renews long before either.
      expr: |
        (max by (namespace, secret) (kube_lego_certificate_not_after_timestamp_seconds) - time() < {{ $days }} * 86400)
        unless on (namespace, secret)
        (
          max by (namespace, secret) (kube_lego_certificate_not_after_timestamp_seconds) - time()
          >= (max by (namespace, secret) (kube_lego_certificate_not_after_timestamp_seconds) - max by (namespace, secret) (kube_lego_certificate_not_before_timestamp_seconds)) / 3
        )
      labels:
        severity: {{ $rule.severity }}
      annotations:
        summary: Certificate {{ "{{ $labels.namespace }}/{{ $labels.secret }}" }} expires in {{ "{{ $value | humanizeDuration }}" }}
        description: kube-lego has not renewed it in time; see `kube-lego status` and the job's logs.
    - alert: KubeLegoCertificateRenewalOverdue
      # The job renews at its first run after the renewal time; two check intervals later it
      # should long be done.
      expr: |
        time() - max by (namespace, secret) (kube_lego_certificate_renewal_timestamp_seconds) > {{ $twice }}
      labels:
        severity: {{ $rule.severity }}
      annotations:
        summary: Renewal of certificate {{ "{{ $labels.namespace }}/{{ $labels.secret }}" }} is overdue by {{ "{{ $value | humanizeDuration }}" }}
        description: It should have been renewed at the first run after its renewal time.
    - alert: KubeLegoCertificateFailing
      expr: |
        max by (namespace, secret) (kube_lego_certificate_result{result=~"Failed|BackingOff|Invalid"}) == 1
      for: {{ $rule.failingFor }}
      labels:
        severity: {{ $rule.severity }}
      annotations:
        summary: Certificate {{ "{{ $labels.namespace }}/{{ $labels.secret }}" }} has been failing for {{ $rule.failingFor }}
        description: See its reason and message in `kube-lego status` and the Events of its Ingress.
    - alert: KubeLegoNoSuccessfulRun
      expr: |
        time() - max by (namespace) (kube_lego_last_successful_run_timestamp_seconds) > {{ $twice }}
      labels:
        severity: {{ $rule.severity }}
      annotations:
        summary: No successful kube-lego run for {{ "{{ $value | humanizeDuration }}" }}
        description: The CronJob is not running or every run fails; see its Jobs and logs.
    - alert: KubeLegoNoSuccessfulRunRecorded
      # No success recorded at all (or no metrics scraped): as bad, once it lasts two intervals.
      expr: |
        absent(kube_lego_last_successful_run_timestamp_seconds)
      for: {{ $twice }}s
      labels:
        severity: {{ $rule.severity }}
      annotations:
        summary: No successful kube-lego run recorded
        description: The status records no successful run, or the responder's metrics are not scraped.
{{- end -}}
