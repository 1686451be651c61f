/**
 * Layer: unit. The job's `--help` table (jobs/help-table.ts): which command lines it answers, what
 * it holds for them, and how a missing or damaged file reads; and the width help is wrapped to
 * (shared/config/help-width.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { helpRequest, lookUpHelp, readHelpTable } from '../../jobs/help-table.js';
import { helpWidth } from '../../shared/config/help-width.js';

describe('helpRequest', () => {
  test('help alone, or after one word', () => {
    assert.equal(helpRequest(['--help']), '');
    assert.equal(helpRequest(['-h']), '');
    assert.equal(helpRequest(['status', '--help']), 'status');
    assert.equal(helpRequest(['check-routes', '-h']), 'check-routes');
    // Whether the word is a command is the table's to say.
    assert.equal(helpRequest(['statsu', '--help']), 'statsu');
  });

  test('any other command line is left to yargs', () => {
    for (const argv of [
      [],
      ['status'],
      ['--help', 'status'],
      ['-n', '--help'],
      ['status', '--help', '-o', 'json'],
      ['status', 'ns/secret', '--help'],
      ['--help=true'],
      ['--HELP'],
      ['--version'],
    ]) {
      assert.equal(helpRequest(argv), undefined, argv.join(' '));
    }
  });
});

describe('lookUpHelp', () => {
  const table = { 80: { '': 'narrow\n', status: 'status narrow\n' }, 120: { '': 'wide\n' } };

  test('the text for the command at the width, if the table holds it', () => {
    assert.equal(lookUpHelp(table, '', 80), 'narrow\n');
    assert.equal(lookUpHelp(table, 'status', 80), 'status narrow\n');
    assert.equal(lookUpHelp(table, '', 120), 'wide\n');
    assert.equal(lookUpHelp(table, 'status', 120), undefined);
    assert.equal(lookUpHelp(table, '', 100), undefined);
    assert.equal(lookUpHelp(undefined, '', 120), undefined);
  });

  test("names from the command line find only the table's own texts", () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      assert.equal(lookUpHelp(table, name, 80), undefined, name);
  });

  test('entries of the wrong shape are not texts', () => {
    assert.equal(lookUpHelp({ 120: { status: 7 } } as never, 'status', 120), undefined);
    assert.equal(lookUpHelp({ 120: 'status' } as never, '0', 120), undefined);
    assert.equal(lookUpHelp({ 120: null } as never, '', 120), undefined);
  });
});

describe('readHelpTable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-lego-help-table-'));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return pathToFileURL(join(dir, name));
  };

  test('the table the build wrote', () => {
    const table = { 120: { '': 'help\n' } };
    assert.deepEqual(readHelpTable(file('good.json', JSON.stringify(table))), table);
  });

  test('no file, or not a table: none', () => {
    assert.equal(readHelpTable(pathToFileURL(join(dir, 'missing.json'))), undefined);
    assert.equal(readHelpTable(file('text.json', 'not json')), undefined);
    assert.equal(readHelpTable(file('array.json', '[]')), undefined);
    assert.equal(readHelpTable(file('null.json', 'null')), undefined);
    assert.equal(readHelpTable(file('string.json', '"help"')), undefined);
  });
});

test('helpWidth: the terminal, at most 120 columns; 120 when not a terminal', () => {
  assert.equal(helpWidth(undefined), 120);
  assert.equal(helpWidth(0), 120);
  assert.equal(helpWidth(80), 80);
  assert.equal(helpWidth(100), 100);
  assert.equal(helpWidth(120), 120);
  assert.equal(helpWidth(300), 120);
});
