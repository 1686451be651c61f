/** Layer: unit. Host validation and normalisation (jobs/decide/hosts.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_HOSTS_PER_CERTIFICATE,
  normalizeHosts,
  type HostsResult,
} from '../../../jobs/decide/hosts.js';

const label63 = 'a'.repeat(63);

describe('normalizeHosts accepts and normalises', () => {
  const rows: { name: string; raw: unknown; hosts: string[]; commonName: string | undefined }[] = [
    {
      name: 'keeps the entry order',
      raw: ['b.example', 'a.example'],
      hosts: ['b.example', 'a.example'],
      commonName: 'b.example',
    },
    {
      name: 'lower-cases and trims',
      raw: ['  WWW.Example.COM '],
      hosts: ['www.example.com'],
      commonName: 'www.example.com',
    },
    {
      name: 'drops one trailing dot',
      raw: ['example.com.'],
      hosts: ['example.com'],
      commonName: 'example.com',
    },
    {
      name: 'converts internationalised names to punycode',
      raw: ['Bücher.example'],
      hosts: ['xn--bcher-kva.example'],
      commonName: 'xn--bcher-kva.example',
    },
    {
      name: 'maps full-width characters (UTS #46)',
      raw: ['ｅｘａｍｐｌｅ．com'],
      hosts: ['example.com'],
      commonName: 'example.com',
    },
    {
      name: 'de-duplicates after normalisation, keeping the first occurrence',
      raw: ['b.example', 'A.example', 'B.EXAMPLE.', 'a.example'],
      hosts: ['b.example', 'a.example'],
      commonName: 'b.example',
    },
    {
      name: 'takes the first host of at most 64 characters as the Common Name',
      raw: [`${label63}.example`, 'short.example'],
      hosts: [`${label63}.example`, 'short.example'],
      commonName: 'short.example',
    },
    {
      name: 'has no Common Name when every host is longer than 64 characters',
      raw: [`${label63}.example`],
      hosts: [`${label63}.example`],
      commonName: undefined,
    },
    {
      name: 'accepts a Common Name of exactly 64 characters',
      raw: [`${'a'.repeat(56)}.example`],
      hosts: [`${'a'.repeat(56)}.example`],
      commonName: `${'a'.repeat(56)}.example`,
    },
    {
      name: 'accepts 63-character labels and hyphens inside labels',
      raw: [`${label63}.my-shop.example`],
      hosts: [`${label63}.my-shop.example`],
      commonName: undefined,
    },
    {
      name: 'accepts exactly 100 names',
      raw: Array.from({ length: 100 }, (_, i) => `h${i}.example`),
      hosts: Array.from({ length: 100 }, (_, i) => `h${i}.example`),
      commonName: 'h0.example',
    },
    {
      name: 'counts names after de-duplication',
      raw: [...Array.from({ length: 100 }, (_, i) => `h${i}.example`), 'H0.example'],
      hosts: Array.from({ length: 100 }, (_, i) => `h${i}.example`),
      commonName: 'h0.example',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(normalizeHosts(row.raw), {
        ok: true,
        hosts: row.hosts,
        commonName: row.commonName,
      });
    });
  }
});

describe('normalizeHosts rejects the whole entry', () => {
  const rows: { name: string; raw: unknown; reason: string; mentions?: string }[] = [
    { name: 'hosts missing', raw: undefined, reason: 'NoHosts' },
    { name: 'hosts null', raw: null, reason: 'NoHosts' },
    { name: 'hosts not an array', raw: 'a.example', reason: 'NoHosts' },
    { name: 'hosts empty', raw: [], reason: 'NoHosts' },
    {
      name: 'a host that is a number',
      raw: ['a.example', 42],
      reason: 'InvalidHost',
      mentions: '42',
    },
    { name: 'a host that is null', raw: [null], reason: 'InvalidHost', mentions: 'null' },
    { name: 'an empty host', raw: ['a.example', '  '], reason: 'InvalidHost', mentions: '#2' },
    {
      name: 'a wildcard',
      raw: ['a.example', '*.example.com'],
      reason: 'WildcardHost',
      mentions: '"*.example.com"',
    },
    {
      name: 'a wildcard in another label',
      raw: ['a.*.example'],
      reason: 'WildcardHost',
      mentions: '"a.*.example"',
    },
    { name: 'an IPv4 address', raw: ['10.0.0.1'], reason: 'IpAddressHost', mentions: '"10.0.0.1"' },
    {
      name: 'an IPv6 address',
      raw: ['2001:db8::1'],
      reason: 'IpAddressHost',
      mentions: '"2001:db8::1"',
    },
    {
      name: 'a bracketed IPv6 address',
      raw: ['[::1]'],
      reason: 'IpAddressHost',
      mentions: '"[::1]"',
    },
    {
      name: 'an IPv4 address in hexadecimal',
      raw: ['0x7f.1'],
      reason: 'IpAddressHost',
      mentions: '"0x7f.1"',
    },
    { name: 'a single label', raw: ['localhost'], reason: 'InvalidHost', mentions: '"localhost"' },
    {
      name: 'an underscore',
      raw: ['my_host.example'],
      reason: 'InvalidHost',
      mentions: '"my_host.example"',
    },
    {
      name: 'a label starting with a hyphen',
      raw: ['-a.example'],
      reason: 'InvalidHost',
      mentions: '"-a.example"',
    },
    {
      name: 'a label ending with a hyphen',
      raw: ['a-.example'],
      reason: 'InvalidHost',
      mentions: '"a-.example"',
    },
    {
      name: 'an empty label',
      raw: ['a..example'],
      reason: 'InvalidHost',
      mentions: '"a..example"',
    },
    {
      name: 'two trailing dots',
      raw: ['a.example..'],
      reason: 'InvalidHost',
      mentions: '"a.example.."',
    },
    { name: 'a 64-character label', raw: [`${'a'.repeat(64)}.example`], reason: 'InvalidHost' },
    { name: 'a space', raw: ['exa mple.com'], reason: 'InvalidHost', mentions: '"exa mple.com"' },
    {
      name: 'a percent-encoded character',
      raw: ['%41.example'],
      reason: 'InvalidHost',
      mentions: '"%41.example"',
    },
    {
      name: 'a path after the name',
      raw: ['a.example/x'],
      reason: 'InvalidHost',
      mentions: '"a.example/x"',
    },
    { name: 'a port after the name', raw: ['a.example:80'], reason: 'InvalidHost' },
    { name: 'a full-width asterisk', raw: ['＊.example'], reason: 'WildcardHost' },
    {
      name: 'invalid punycode',
      raw: ['xn--zz.example'],
      reason: 'InvalidHost',
      mentions: '"xn--zz" starts with "xn--" but is not valid Punycode',
    },
    { name: 'punycode of plain ASCII', raw: ['xn--abc-.example'], reason: 'InvalidHost' },
    {
      name: 'punycode of a disallowed character',
      raw: ['www.xn--a.example'],
      reason: 'InvalidHost',
    },
    {
      name: 'punycode of an upper-case name (not the canonical encoding)',
      raw: ['xn--bcher-2pa.example'],
      reason: 'InvalidHost',
    },
    { name: 'a numeric top-level label', raw: ['example.123'], reason: 'InvalidHost' },
    {
      name: 'a name longer than 253 characters',
      raw: [[label63, label63, label63, label63].join('.')], // 255 characters
      reason: 'InvalidHost',
    },
    {
      name: 'more than 100 names',
      raw: Array.from({ length: MAX_HOSTS_PER_CERTIFICATE + 1 }, (_, i) => `h${i}.example`),
      reason: 'TooManyHosts',
      mentions: '101',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result: HostsResult = normalizeHosts(row.raw);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, row.reason);
      if (row.mentions !== undefined)
        assert.match(result.message, new RegExp(escape(row.mentions)));
    });
  }

  test('a bad host anywhere rejects the entry, even after good ones', () => {
    const result = normalizeHosts(['a.example', 'b.example', '*.c.example']);
    assert.deepEqual(
      result.ok ? undefined : result.reason,
      'WildcardHost',
      'no partial certificate for a.example and b.example',
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
