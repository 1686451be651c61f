/** Layer: unit. The structured logger (shared/logger.ts), writing to a function, no socket. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createLogger,
  silentLogger,
  type LogLevel,
  type LogType,
  type Logger,
} from '../../../shared/logger.js';

const NOW = new Date('2025-06-01T12:34:56.789Z');

/** A logger writing into an array, with a fixed clock. */
function capture(type: LogType, level: LogLevel = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, type, now: () => NOW, write: (line) => lines.push(line) });
  return { logger, lines };
}

function json(line: string | undefined): Record<string, unknown> {
  assert.ok(line !== undefined, 'a line was written');
  return JSON.parse(line) as Record<string, unknown>;
}

describe('logger: text format', () => {
  test('time, level and message first, then the fields in order', () => {
    const { logger, lines } = capture('text');
    logger.info('certificate issued', { namespace: 'shop', secret: 'web-tls', failures: 0 });
    assert.deepEqual(lines, [
      'time=2025-06-01T12:34:56.789Z level=info msg="certificate issued" namespace=shop secret=web-tls failures=0',
    ]);
  });

  test('values with spaces, quotes or newlines are quoted so that a line stays one line', () => {
    const { logger, lines } = capture('text');
    logger.warn('two\nlines', { message: 'say "hi"', hosts: 'a.example,b.example', empty: '' });
    assert.equal(lines.length, 1);
    assert.equal(
      lines[0],
      'time=2025-06-01T12:34:56.789Z level=warn msg="two\\nlines" message="say \\"hi\\"" hosts=a.example,b.example empty=""',
    );
  });

  test('non-string values are written as JSON; undefined fields are left out', () => {
    const { logger, lines } = capture('text');
    logger.info('m', { n: 3, ok: true, list: ['a', 'b'], nothing: null, absent: undefined });
    assert.equal(
      lines[0],
      'time=2025-06-01T12:34:56.789Z level=info msg=m n=3 ok=true list="[\\"a\\",\\"b\\"]" nothing=null',
    );
  });
});

describe('logger: JSON format', () => {
  test('one JSON object per line with time, level, msg and the fields', () => {
    const { logger, lines } = capture('json');
    logger.error('certificate could not be obtained', { reason: 'AcmeRateLimited', failures: 2 });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('\n'));
    assert.deepEqual(json(lines[0]), {
      time: '2025-06-01T12:34:56.789Z',
      level: 'error',
      msg: 'certificate could not be obtained',
      reason: 'AcmeRateLimited',
      failures: 2,
    });
  });
});

describe('logger: levels', () => {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  for (const [rank, level] of levels.entries()) {
    test(`at level ${level}, lower levels are dropped`, () => {
      const { logger, lines } = capture('json', level);
      for (const at of levels) logger[at](`at ${at}`);
      assert.deepEqual(
        lines.map((line) => json(line).level),
        levels.slice(rank),
      );
      for (const [other, at] of levels.entries())
        assert.equal(logger.enabled(at), other >= rank, at);
    });
  }

  test('a child keeps its parent’s level', () => {
    const { logger, lines } = capture('text', 'warn');
    const child = logger.child({ namespace: 'shop' });
    child.info('dropped');
    child.warn('kept');
    assert.equal(lines.length, 1);
    assert.equal(child.enabled('info'), false);
  });
});

describe('logger: child bindings', () => {
  test('bindings are added to every line of the child, before the call’s fields', () => {
    const { logger, lines } = capture('text');
    const log = logger.child({ namespace: 'shop' }).child({ secret: 'web-tls' });
    log.info('issuing certificate', { reason: 'SecretMissing' });
    assert.equal(
      lines[0],
      'time=2025-06-01T12:34:56.789Z level=info msg="issuing certificate" namespace=shop secret=web-tls reason=SecretMissing',
    );
  });

  test('the parent is not changed by its child', () => {
    const { logger, lines } = capture('json');
    logger.child({ namespace: 'shop' });
    logger.info('root');
    assert.deepEqual(json(lines[0]), {
      time: NOW.toISOString(),
      level: 'info',
      msg: 'root',
    });
  });

  test("a call's field wins over a binding of the same name", () => {
    const { logger, lines } = capture('json');
    logger.child({ ingress: 'web' }).info('m', { ingress: 'api' });
    assert.equal(json(lines[0]).ingress, 'api');
  });
});

describe('logger: key material is redacted', () => {
  const secretFields = [
    'privateKey',
    'private_key',
    'PrivateKey',
    'accountKey',
    'account-key',
    'tls.key',
    'key',
    'password',
  ];
  for (const type of ['text', 'json'] as const) {
    test(`${type}: fields named ${secretFields.join(', ')} are [redacted], at every level`, () => {
      const { logger, lines } = capture(type);
      const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----';
      const fields = Object.fromEntries(secretFields.map((name) => [name, pem]));
      for (const level of ['debug', 'info', 'warn', 'error'] as const) logger[level]('m', fields);
      logger.child(fields).info('bound');
      assert.equal(lines.length, 5);
      for (const line of lines) {
        assert.ok(!line.includes('BEGIN PRIVATE KEY'), line);
        assert.ok(!line.includes('MIIEvQ'), line);
        assert.equal(line.split('[redacted]').length - 1, secretFields.length, line);
      }
    });
  }

  test('other fields are left alone, including names that merely contain "key"', () => {
    const { logger, lines } = capture('json');
    logger.info('m', { secretName: 'web-tls', keyType: 'rsa', kubeAnnotation: 'x', monkey: 'y' });
    assert.deepEqual(json(lines[0]), {
      time: NOW.toISOString(),
      level: 'info',
      msg: 'm',
      secretName: 'web-tls',
      keyType: 'rsa',
      kubeAnnotation: 'x',
      monkey: 'y',
    });
  });
});

describe('logger: errors', () => {
  test('an Error value becomes its message, in both formats', () => {
    const text = capture('text');
    text.logger.error('failed', { error: new Error('connection refused') });
    assert.equal(
      text.lines[0],
      'time=2025-06-01T12:34:56.789Z level=error msg=failed error="connection refused"',
    );
    const asJson = capture('json');
    asJson.logger.error('failed', { error: new TypeError('bad') });
    assert.equal(json(asJson.lines[0]).error, 'bad');
  });

  test('an Error in a binding becomes its message too', () => {
    const { logger, lines } = capture('json');
    logger.child({ cause: new Error('earlier') }).warn('m');
    assert.equal(json(lines[0]).cause, 'earlier');
  });
});

describe('silentLogger', () => {
  test('writes nothing, reports every level as disabled, and its child is silent too', () => {
    assert.equal(silentLogger.enabled('error'), false);
    assert.equal(silentLogger.child({ a: 1 }), silentLogger);
    silentLogger.error('nothing', { privateKey: 'x' });
  });
});
