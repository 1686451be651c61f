/** Layer: unit. Ingress class and provider resolution (jobs/decide/ingress-class.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  resolveIngressClass,
  type IngressClassSettings,
} from '../../../jobs/decide/ingress-class.js';

const DEFAULTS: IngressClassSettings = {
  defaultIngressClass: 'nginx',
  supportedIngressClass: ['nginx', 'gce'],
  defaultIngressProvider: '',
  supportedIngressProvider: ['ingress', 'gce'],
};

interface Row {
  name: string;
  ingressClassName?: string;
  annotations?: Record<string, string>;
  settings?: Partial<IngressClassSettings>;
  expected:
    | { ok: true; ingressClass: string; provider: string }
    | { ok: false; reason: string; mentions: string[] };
}

const rows: Row[] = [
  {
    name: 'no class anywhere: the default class, which names a provider (nginx: ingress)',
    expected: { ok: true, ingressClass: 'nginx', provider: 'ingress' },
  },
  {
    name: 'spec.ingressClassName wins over the annotation',
    ingressClassName: 'gce',
    annotations: { 'kubernetes.io/ingress.class': 'nginx' },
    expected: { ok: true, ingressClass: 'gce', provider: 'gce' },
  },
  {
    name: 'the class annotation when spec.ingressClassName is not set',
    annotations: { 'kubernetes.io/ingress.class': 'gce' },
    expected: { ok: true, ingressClass: 'gce', provider: 'gce' },
  },
  {
    name: 'an empty spec.ingressClassName counts as absent',
    ingressClassName: '',
    annotations: { 'kubernetes.io/ingress.class': 'gce' },
    expected: { ok: true, ingressClass: 'gce', provider: 'gce' },
  },
  {
    name: 'class values are trimmed and lower-cased',
    annotations: { 'kubernetes.io/ingress.class': ' GCE ' },
    expected: { ok: true, ingressClass: 'gce', provider: 'gce' },
  },
  {
    name: 'the default class from the settings',
    settings: { defaultIngressClass: 'gce' },
    expected: { ok: true, ingressClass: 'gce', provider: 'gce' },
  },
  {
    name: 'a class that is not a provider name takes the default provider',
    ingressClassName: 'public',
    settings: { supportedIngressClass: ['public'], defaultIngressProvider: 'ingress' },
    expected: { ok: true, ingressClass: 'public', provider: 'ingress' },
  },
  {
    name: 'an empty default provider means the default class',
    ingressClassName: 'public',
    settings: { supportedIngressClass: ['public'], defaultIngressClass: 'gce' },
    expected: { ok: true, ingressClass: 'public', provider: 'gce' },
  },
  {
    name: 'the provider annotation wins over the class',
    ingressClassName: 'nginx',
    annotations: { 'kubernetes.io/ingress.provider': 'gce' },
    expected: { ok: true, ingressClass: 'nginx', provider: 'gce' },
  },
  {
    name: 'the provider annotation wins over the default provider',
    ingressClassName: 'public',
    annotations: { 'kubernetes.io/ingress.provider': 'GCE' },
    settings: { supportedIngressClass: ['public'], defaultIngressProvider: 'ingress' },
    expected: { ok: true, ingressClass: 'public', provider: 'gce' },
  },
  {
    name: 'class traefik routed by the ingress provider (LEGO_DEFAULT_INGRESS_PROVIDER=ingress)',
    ingressClassName: 'traefik',
    settings: { supportedIngressClass: ['traefik'], defaultIngressProvider: 'ingress' },
    expected: { ok: true, ingressClass: 'traefik', provider: 'ingress' },
  },
  {
    name: "kube-lego's provider name nginx in the annotation is the ingress provider",
    ingressClassName: 'haproxy',
    annotations: { 'kubernetes.io/ingress.provider': 'nginx' },
    settings: { supportedIngressClass: ['haproxy'], defaultIngressProvider: 'gce' },
    expected: { ok: true, ingressClass: 'haproxy', provider: 'ingress' },
  },
  {
    name: 'a class named ingress is its own provider',
    ingressClassName: 'ingress',
    settings: { supportedIngressClass: ['ingress'], defaultIngressProvider: 'gce' },
    expected: { ok: true, ingressClass: 'ingress', provider: 'ingress' },
  },
  {
    name: 'an unsupported class is skipped, naming the class and the supported list',
    ingressClassName: 'traefik',
    expected: {
      ok: false,
      reason: 'UnsupportedIngressClass',
      mentions: ['"traefik"', 'nginx, gce'],
    },
  },
  {
    name: 'an unsupported annotated class is skipped',
    annotations: { 'kubernetes.io/ingress.class': 'haproxy' },
    settings: { supportedIngressClass: ['nginx'] },
    expected: { ok: false, reason: 'UnsupportedIngressClass', mentions: ['"haproxy"', 'nginx'] },
  },
  {
    name: 'a default class that is not supported is skipped too',
    settings: { defaultIngressClass: 'gce', supportedIngressClass: ['nginx'] },
    expected: { ok: false, reason: 'UnsupportedIngressClass', mentions: ['"gce"'] },
  },
  {
    name: 'a provider not in the supported providers',
    ingressClassName: 'gce',
    settings: { supportedIngressProvider: ['ingress'] },
    expected: { ok: false, reason: 'UnsupportedIngressProvider', mentions: ['"gce"', 'ingress'] },
  },
  {
    name: 'a provider annotation naming an unknown provider',
    annotations: { 'kubernetes.io/ingress.provider': 'traefik' },
    expected: { ok: false, reason: 'UnsupportedIngressProvider', mentions: ['"traefik"'] },
  },
  {
    name: 'a class that is not a provider, defaulting to itself, is no provider',
    ingressClassName: 'public',
    settings: { supportedIngressClass: ['public'], defaultIngressClass: 'public' },
    expected: { ok: false, reason: 'UnsupportedIngressProvider', mentions: ['"public"'] },
  },
];

describe('resolveIngressClass', () => {
  for (const row of rows) {
    test(row.name, () => {
      const result = resolveIngressClass(
        { ingressClassName: row.ingressClassName, annotations: row.annotations ?? {} },
        { ...DEFAULTS, ...row.settings },
      );
      if (row.expected.ok) {
        assert.deepEqual(result, row.expected);
        return;
      }
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, row.expected.reason);
      for (const text of row.expected.mentions)
        assert.ok(result.message.includes(text), result.message);
    });
  }
});
