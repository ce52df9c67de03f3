import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../sql/lexer.ts';
import { SessionSettings, parseDurationMs } from './settings.ts';
import { runReset, runSet, runShow } from './set-show.ts';
import { resolveTimeZone } from './time-zone.ts';

async function rows(r: { chunks: AsyncIterable<unknown[][]> }): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const c of r.chunks) out.push(...c);
  return out;
}

test('startup parameters and -c options become session values', () => {
  const s = new SessionSettings('bob', { application_name: 'app', options: '-c statement_timeout=5s --search_path=x', TimeZone: 'Europe/Paris' });
  assert.equal(s.get('application_name'), 'app');
  assert.equal(s.get('STATEMENT_TIMEOUT'), '5s');
  assert.equal(s.statementTimeoutMs, 5000);
  assert.equal(s.get('search_path'), 'x');
  assert.equal(s.get('timezone'), 'Europe/Paris');
  assert.equal(s.get('session_authorization'), 'bob');
});

test('SET forms, ParameterStatus for reported settings, SHOW and RESET', async () => {
  const s = new SessionSettings('u');
  assert.deepEqual(runSet(tokenize("SET application_name TO 'x'"), s).parameterStatus, [['application_name', 'x']]);
  assert.deepEqual(runSet(tokenize('set time zone UTC'), s).parameterStatus, [['TimeZone', 'UTC']]);
  assert.deepEqual(runSet(tokenize("set datestyle = 'iso, dmy'"), s).parameterStatus, [['DateStyle', 'ISO, DMY']]);
  runSet(tokenize('SET SESSION statement_timeout = 250'), s);
  assert.equal(s.get('statement_timeout'), '250ms');
  runSet(tokenize('set search_path = public, "$user"'), s);
  assert.equal(s.get('search_path'), 'public, $user');
  runSet(tokenize('set my.custom = 1'), s);
  assert.deepEqual(await rows(runShow(tokenize('show my.custom'), s)), [['1']]);
  const show = runShow(tokenize('SHOW TimeZone'), s);
  assert.equal(show.columns[0]!.name, 'TimeZone');
  assert.equal(runReset(tokenize('reset all'), s).parameterStatus?.length, 3); // application_name, TimeZone, DateStyle
  assert.equal(s.get('DateStyle'), 'ISO, MDY');
  assert.throws(() => runSet(tokenize('set nope = 1'), s), { sqlstate: '42704' });
  assert.throws(() => runSet(tokenize("set client_encoding = 'latin1'"), s), { sqlstate: '0A000' });
  assert.throws(() => runSet(tokenize('set server_version = 1'), s), { sqlstate: '55P02' });
  assert.throws(() => runSet(tokenize('set default_transaction_read_only = off'), s), { sqlstate: '25006' });
  assert.equal(parseDurationMs('1min'), 60_000);
  assert.ok((await rows(runShow(tokenize('show all'), s))).length > 30);
});

test('TimeZone: names and offsets as PostgreSQL spells them, bad ones 22023', () => {
  const s = new SessionSettings('u', { options: '-c TimeZone=America/St_Johns' });
  assert.equal(s.get('TimeZone'), 'America/St_Johns');
  assert.deepEqual(runSet(tokenize("set timezone = 'europe/amsterdam'"), s).parameterStatus, [['TimeZone', 'Europe/Amsterdam']]);
  runSet(tokenize('set time zone -7'), s);
  assert.equal(s.get('TimeZone'), '<-07>+07');
  runSet(tokenize('set time zone 5.5'), s);
  assert.equal(s.get('TimeZone'), '<+05:30>-05:30');
  assert.equal(resolveTimeZone(s.get('TimeZone')!).offsetAt(0), 19_800); // the reported spelling reads back as the same zone
  runSet(tokenize("set timezone = 'UTC+3'"), s);
  assert.equal(s.get('TimeZone'), 'UTC+3');
  assert.throws(() => runSet(tokenize("set timezone = 'nope/zone'"), s), { sqlstate: '22023', message: 'invalid value for parameter "TimeZone": "nope/zone"' });
  assert.throws(() => runSet(tokenize("set timezone = 'Z'"), s), { sqlstate: '22023' });
  runSet(tokenize("set time zone interval '+05:30' hour to minute"), s);
  assert.equal(s.get('TimeZone'), '<+05:30>-05:30'); // what PostgreSQL shows
  runSet(tokenize('set time zone local'), s);
  assert.equal(s.get('TimeZone'), 'America/St_Johns'); // back to the startup value
  assert.equal(new SessionSettings('u', { TimeZone: 'no/such' }).get('TimeZone'), 'UTC'); // refused at startup: default kept
});
