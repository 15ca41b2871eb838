// Pipeline text and the registry: parsing, typed options, errors that list what exists,
// printing back, and the checks a pass must pass to be registered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { BUILTIN_PASSES, DEFAULT_PIPELINE } from '../../passes/index.ts';
import type { Pass } from '../../passes/pass.ts';
import { parsePipeline, printPipeline } from '../../passes/pipeline.ts';
import { builtinRegistry, checkPass, PassRegistry } from '../../passes/registry.ts';
import { testRegistry } from './test-passes.ts';

const r = testRegistry();
const parse = (t: string) => parsePipeline(t, r);

function usageError(f: () => unknown, ...words: RegExp[]): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof LatheError, String(e));
    assert.is(e.kind, 'UsageError');
    for (const w of words) assert.match(e.message, w);
    return;
  }
  assert.unreachable('expected a UsageError');
}

test('passes with typed options; defaults filled in; spaces and commas', () => {
  const p = parse(' drop-identity , fake-quant{rank=32 format=nvfp4, fast=true tag="a b"},fake-quant ');
  assert.equal(p.map((e) => e.pass.name), ['drop-identity', 'fake-quant', 'fake-quant']);
  assert.equal(p[1]!.options, { rank: 32, format: 'nvfp4', fast: true, tag: 'a b' });
  assert.equal(p[2]!.options, { rank: 16, format: 'int4', fast: false, tag: '' });
  assert.equal(p[1]!.given, ['rank', 'format', 'fast', 'tag']);
  assert.equal(parse('fake-quant{rank=-1.5e2}')[0]!.options.rank, -150);
  assert.equal(parse('drop-identity{keep-outputs=true}')[0]!.options, { keepOutputs: true });
  assert.equal(parse('drop-identity{keepOutputs=false}')[0]!.options, { keepOutputs: false });
  assert.equal(parse('fake-quant{tag=32}')[0]!.options.tag, '32');
  assert.equal(parse(''), []);
  assert.equal(parse('fake-quant{}')[0]!.given, []);
});

test('printing gives canonical text that parses back to the same pipeline', () => {
  const text = printPipeline(parse('fake-quant{ tag="x y" fast=true  rank=8 },drop-identity{keep-outputs=true}'));
  assert.is(text, 'fake-quant{rank=8 fast=true tag="x y"},drop-identity{keepOutputs=true}');
  assert.is(printPipeline(parse(text)), text);
  assert.is(printPipeline(parse('fake-quant{tag=true}')), 'fake-quant{tag="true"}');
  assert.equal(parse('fake-quant{tag="true"}')[0]!.options.tag, 'true');
});

test('unknown pass: the error lists the passes that exist and suggests close ones', () => {
  usageError(() => parse('drop-identity,drop-identty'), /column 15: unknown pass 'drop-identty' \(did you mean 'drop-identity'\?\)/, /the passes are: break-ir, drop-identity, fake-quant/);
});

test('unknown option, wrong type, value outside choices: errors name the option and what it takes', () => {
  usageError(() => parse('fake-quant{rnk=3}'), /pass 'fake-quant' has no option 'rnk'; its options are: rank \(a number\), format \(one of int4\|nvfp4\), fast \(true or false\), tag \(a string\)/);
  usageError(() => parse('drop-identity{x=1}'), /its options are: keep-outputs \(true or false\)/);
  usageError(() => parse('break-ir{x=1}'), /its options are: \(none\)/);
  usageError(() => parse('fake-quant{rank=big}'), /option 'rank' of 'fake-quant' takes a number, not big/);
  usageError(() => parse('fake-quant{fast=1}'), /takes true or false, not 1/);
  usageError(() => parse('fake-quant{format=int8}'), /takes one of int4\|nvfp4, not int8/);
  usageError(() => parse('fake-quant{rank=1 rank=2}'), /given twice/);
});

test('syntax errors say where', () => {
  usageError(() => parse('drop-identity drop-identity'), /column 15: expected ',' between passes, found 'drop-identity'/);
  usageError(() => parse('fake-quant{rank}'), /column 16: expected '=' after 'rank', found '}'/);
  usageError(() => parse('fake-quant{rank=1'), /expected an option of 'fake-quant' or '}', found 'the end'/);
  usageError(() => parse('fake-quant{tag="abc}'), /column 16: unterminated string/);
  usageError(() => parse('drop-identity,'), /expected a pass name, found 'the end'/);
  usageError(() => parse('a;b'), /unexpected 'a;b'/);
});

test("'default' is the default pipeline", () => {
  const builtins = builtinRegistry();
  assert.is(printPipeline(parsePipeline('default', builtins)), printPipeline(parsePipeline(DEFAULT_PIPELINE, builtins)));
  usageError(() => parse('default{x=1}'), /'default' takes no options/);
});

test('the built-in passes register (unique kebab-case names, well-formed options)', () => {
  const names = builtinRegistry().names();
  assert.is(names.length, BUILTIN_PASSES.length);
});

test('registration refuses malformed passes and duplicates, naming the file', () => {
  const ok: Pass = { name: 'fine-pass', summary: 's', options: {}, run: (m) => m };
  const refused = (p: unknown, why: RegExp) => {
    try {
      checkPass(p, 'my-pass.ts');
    } catch (e) {
      assert.ok(e instanceof LatheError);
      assert.is(e.kind, 'PassError');
      assert.match(e.message, /^my-pass\.ts: /);
      assert.match(e.message, why);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(p)}`);
  };
  checkPass(ok, 'my-pass.ts');
  refused({ ...ok, name: 'FinePass' }, /name must be a kebab-case string/);
  refused({ ...ok, name: 'default' }, /reserved/);
  refused({ ...ok, summary: '' }, /summary/);
  refused({ ...ok, run: 3 }, /run must be a function/);
  refused({ ...ok, options: undefined }, /options must be an object/);
  refused({ ...ok, options: { n: { type: 'number', default: 'x', summary: '' } } }, /option 'n' is a number but its default is "x"/);
  refused({ ...ok, options: { n: { type: 'int', default: 1, summary: '' } } }, /want 'number', 'string' or 'boolean'/);
  refused({ ...ok, options: { f: { type: 'string', default: 'c', choices: ['a', 'b'], summary: '' } } }, /not one of its choices/);
  refused({ ...ok, preserves: 'use-def' }, /preserves must be an array/);
  const reg = new PassRegistry();
  reg.register(ok, 'a.ts');
  assert.throws(() => reg.register({ ...ok }, 'b.ts'), /a pass named 'fine-pass' is already registered \(from a\.ts\)/);
});

test.run();
