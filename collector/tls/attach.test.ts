import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { hasStaticOpenssl, TlsAttacher } from './attach.ts';

const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';

test('each file once, by device and inode, whatever path reaches it', { skip: existsSync(LIBSSL) ? false : 'no libssl.so.3' }, () => {
  const calls: [string, boolean][] = [];
  const a = new TlsAttacher((p, m) => (calls.push([p, m]), 4));
  assert.equal(a.add([LIBSSL, `/proc/self/root${LIBSSL}`, '/nonexistent/libssl.so.3']), 1);
  assert.equal(a.add([LIBSSL]), 0);
  assert.deepEqual(calls, [[LIBSSL, false]]);
  assert.deepEqual(a.attached, [LIBSSL]);
});

test('executables: only those with OpenSSL linked in, as memory-BIO users, once', async () => {
  const calls: [string, boolean][] = [];
  const a = new TlsAttacher((p, m) => (calls.push([p, m]), 4));
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((r) => sleeper.once('spawn', r));
  try {
    assert.equal(a.addExe(sleeper.pid!), 0, 'sleep has no OpenSSL');
    const staticNode = hasStaticOpenssl(process.execPath);
    assert.equal(a.addExe(process.pid), staticNode ? 1 : 0);
    assert.equal(a.addExe(process.pid), 0, 'same file again');
    assert.deepEqual(calls, staticNode ? [[`/proc/${process.pid}/exe`, true]] : []);
    assert.equal(a.addExe(2 ** 22 + 1), 0, 'no such process');
  } finally {
    sleeper.kill();
  }
});

test('a failing attach is recorded, not thrown, and not retried', { skip: existsSync(LIBSSL) ? false : 'no libssl.so.3' }, () => {
  let n = 0;
  const a = new TlsAttacher(() => {
    n++;
    throw new Error('attachTls: no symbols');
  });
  assert.equal(a.add([LIBSSL]), 0);
  assert.equal(a.add([LIBSSL]), 0);
  assert.equal(n, 1);
  assert.deepEqual(a.errors, ['attachTls: no symbols']);
  assert.deepEqual(a.attached, []);
});
