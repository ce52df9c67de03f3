import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from './split-statements.ts';
import { classifyTransactionCommand, leadingWords } from './transaction-control.ts';

const texts = (sql: string): string[] => {
  const r = splitStatements(sql);
  assert.equal(r.error, undefined, `unexpected error for ${sql}`);
  return r.statements.map((s) => s.text);
};

test('splits at top-level semicolons, trims, drops the terminator', () => {
  assert.deepEqual(texts('select 1; select 2'), ['select 1', 'select 2']);
  assert.deepEqual(texts('  select 1 ;\n\tselect 2;  '), ['select 1', 'select 2']);
  assert.deepEqual(texts('select 1'), ['select 1']);
});

test('empty statements and whitespace/comment-only input yield nothing', () => {
  assert.deepEqual(texts(''), []);
  assert.deepEqual(texts('   \n '), []);
  assert.deepEqual(texts(';;;'), []);
  assert.deepEqual(texts('select 1;;; ;select 2;;'), ['select 1', 'select 2']);
  assert.deepEqual(texts('-- just a comment'), []);
  assert.deepEqual(texts('/* a */ ; -- b\n ;'), []);
});

test('single quotes with doubled-quote escapes', () => {
  assert.deepEqual(texts("select 'a;b'; select 'it''s; fine'"), ["select 'a;b'", "select 'it''s; fine'"]);
  // standard_conforming_strings: a backslash is an ordinary character in '…'
  assert.deepEqual(texts("select 'a\\'; select 2"), ["select 'a\\'", 'select 2']);
});

test("E'' strings take backslash escapes; only when E starts the token", () => {
  assert.deepEqual(texts("select E'a\\';b'; select 2"), ["select E'a\\';b'", 'select 2']);
  assert.deepEqual(texts("select e'\\\\'; select 2"), ["select e'\\\\'", 'select 2']);
  // "somee" is an identifier, the quote after it is a plain string: the backslash does not escape
  assert.deepEqual(texts("select somee'\\'; select 2"), ["select somee'\\'", 'select 2']);
});

test('double-quoted identifiers with "" escapes', () => {
  assert.deepEqual(texts('select 1 as "a;b"; select 1 as "x"";y"'), ['select 1 as "a;b"', 'select 1 as "x"";y"']);
});

test('dollar quoting, tagged and untagged; $1 is not a quote; $ inside identifiers', () => {
  assert.deepEqual(texts('select $$a;b$$; select 2'), ['select $$a;b$$', 'select 2']);
  assert.deepEqual(texts('select $fn$ a; $$ ; $ $fn$; select 2'), ['select $fn$ a; $$ ; $ $fn$', 'select 2']);
  assert.deepEqual(texts('select $1; select $2'), ['select $1', 'select $2']);
  assert.deepEqual(texts('select foo$bar$ ; select 2'), ['select foo$bar$', 'select 2']);
  // a different tag does not close
  assert.deepEqual(texts('select $a$ $b$ ; $a$; x'), ['select $a$ $b$ ; $a$', 'x']);
});

test('line and nested block comments hide semicolons but stay in the text', () => {
  assert.deepEqual(texts('select 1 -- c;omment\n; select 2'), ['select 1 -- c;omment', 'select 2']);
  assert.deepEqual(texts('select /* a; /* nested; */ still; */ 1; select 2'), [
    'select /* a; /* nested; */ still; */ 1',
    'select 2',
  ]);
  assert.deepEqual(texts('-- ping\nselect 1'), ['-- ping\nselect 1']);
  assert.deepEqual(texts('select 1 --trailing comment without newline'), ['select 1 --trailing comment without newline']);
});

test('quotes inside comments and comments inside quotes do not interfere', () => {
  assert.deepEqual(texts("select '--not a comment; x'; select 2"), ["select '--not a comment; x'", 'select 2']);
  assert.deepEqual(texts("select 1 /* it's */; select 2"), ["select 1 /* it's */", 'select 2']);
  assert.deepEqual(texts("select '/*'; select '*/'"), ["select '/*'", "select '*/'"]);
});

test('unterminated quotes and comments are reported', () => {
  assert.match(splitStatements("select 'abc").error ?? '', /unterminated quoted string/);
  assert.match(splitStatements('select "abc').error ?? '', /unterminated quoted identifier/);
  assert.match(splitStatements('select $$abc').error ?? '', /unterminated dollar-quoted/);
  assert.match(splitStatements('select 1; /* abc /* */').error ?? '', /unterminated \/\* comment/);
  assert.match(splitStatements("select E'abc\\'").error ?? '', /unterminated quoted string/);
});

test('transaction control is recognised past comments and in any case', () => {
  assert.deepEqual(leadingWords('/* x */ -- y\n  start   transaction read only', 3), ['START', 'TRANSACTION', 'READ']);
  const kind = (s: string): string | undefined => classifyTransactionCommand(s)?.kind;
  assert.equal(kind('BEGIN'), 'begin');
  assert.equal(kind('begin work'), 'begin');
  assert.equal(kind('Start Transaction isolation level serializable'), 'begin');
  assert.equal(kind('commit'), 'commit');
  assert.equal(kind('END'), 'commit');
  assert.equal(kind('rollback'), 'rollback');
  assert.equal(kind('abort'), 'rollback');
  assert.equal(kind('rollback to savepoint s1'), 'rollbackTo');
  assert.equal(kind('ROLLBACK WORK TO s1'), 'rollbackTo');
  assert.equal(kind('savepoint s1'), 'savepoint');
  assert.equal(kind('release savepoint s1'), 'release');
  assert.equal(kind('commit prepared \'x\''), undefined);
  assert.equal(kind('start'), undefined);
  assert.equal(kind('select 1'), undefined);
  assert.equal(kind('beginning'), undefined);
});

test('$n parameters are counted outside quotes and comments, per statement', () => {
  const params = (sql: string): number[] => splitStatements(sql).statements.map((s) => s.maxParam);
  assert.deepEqual(params('select $1, $12 + $3'), [12]);
  assert.deepEqual(params("select '$5', \"$6\", $$ $7 $$ -- $8\n /* $9 */"), [0]);
  assert.deepEqual(params('select $2; select 1'), [2, 0]);
  assert.deepEqual(params('select foo$1'), [0]);
});
