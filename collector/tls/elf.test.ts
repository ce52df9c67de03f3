import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { definedFunctions } from './elf.ts';
import { hasStaticOpenssl, libsslOf } from './attach.ts';

const dir = mkdtempSync(join(tmpdir(), 'wiretap-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let gcc: string | false = false;
try {
  execFileSync('sh', ['-c', 'command -v gcc']);
} catch {
  gcc = 'gcc not installed';
}

test('defined functions only: an imported (undefined) symbol of the same name does not count', { skip: gcc }, () => {
  // Defines SSL_write and SSL_read, calls BIO_write from elsewhere (an UND entry in .dynsym),
  // and has a variable named BIO_read (not a function).
  writeFileSync(join(dir, 'lib.c'), `
extern int BIO_write(void *, const void *, int);
int BIO_read = 1;
int SSL_write(void *s, const void *b, int n) { return BIO_write(s, b, n); }
int SSL_read(void *s, void *b, int n) { return n; }
`);
  const so = join(dir, 'libfake.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-o', so, join(dir, 'lib.c')]);
  assert.deepEqual([...definedFunctions(so, ['SSL_write', 'SSL_read', 'BIO_write', 'BIO_read', 'SSL_free'])].sort(), ['SSL_read', 'SSL_write']);
  assert.equal(hasStaticOpenssl(so), false, 'BIO_write is only imported');
});

test('not ELF, truncated, missing, 32-bit: defines nothing (no throw)', () => {
  writeFileSync(join(dir, 'text'), 'SSL_write\0BIO_write\0SSL_read\0');
  const sh = readFileSync('/bin/sh');
  writeFileSync(join(dir, 'truncated'), sh.subarray(0, 100));
  const elf32 = Buffer.from(sh.subarray(0, 4096));
  elf32[4] = 1; // ELFCLASS32
  writeFileSync(join(dir, 'elf32'), elf32);
  for (const f of ['text', 'truncated', 'elf32', 'missing']) {
    assert.equal(definedFunctions(join(dir, f), ['SSL_write']).size, 0, f);
  }
  assert.equal(definedFunctions(dir, ['SSL_write']).size, 0, 'a directory');
});

test('this node: static OpenSSL exactly when it maps no libssl', () => {
  // Distribution builds link libssl dynamically; nodejs.org builds carry their own OpenSSL.
  assert.equal(hasStaticOpenssl(process.execPath), libsslOf('self').length === 0);
});
