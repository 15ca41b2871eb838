// Each error the text form reports: its kind, its line:column, and a message that says what.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import { parseModel } from '../../ir/text/parse.ts';

function fails(text: string, kind: string, line: number, column: number, message: RegExp, opts = {}): void {
  try {
    parseModel(text, { file: 'bad.lir', baseDir: '/tmp/lathe-models', ...opts });
  } catch (e) {
    assert.instance(e, LatheError);
    const err = e as LatheError;
    assert.is(err.kind, kind, err.message);
    assert.equal([err.where.line, err.where.column], [line, column], err.message);
    assert.is(err.where.file, 'bad.lir');
    assert.match(err.detail, message);
    assert.ok(err.message.startsWith(`bad.lir:${line}:${column}: `), err.message);
    return;
  }
  assert.unreachable('parsed without an error');
}

const wrap = (body: string, sig = '(%x: f32[2]) -> ()') => `lathe.model {opsets = {onnx = 17}}\ngraph @main${sig} {\n${body}\n  return\n}\n`;

test('a syntax error names what was expected, at line:column', () => {
  fails(wrap('  %y = onnx.Neg(%x : f32[2]'), 'ParseError', 3, 20, /expected .*'\)'.*found ':'/);
  fails('lathe.model {opsets = {onnx = 17}}\ngraph @main(%x f32[2]) -> () {\n  return\n}', 'ParseError', 2, 16, /expected ':'/);
});

test('the end of the text is reported where it happened', () => {
  fails('graph @main() -> () {\n  return', 'ParseError', 2, 9, /expected '\}' \(found the end of the text\)/);
});

test('text after the model', () => {
  fails('graph @a() -> () {\n  return\n}\ngraph @b() -> () {\n  return\n}', 'ParseError', 4, 1, /expected the end of the text \(found 'graph'\)/);
});

test('an unterminated string', () => {
  fails(wrap('  %y = onnx.Neg(%x) {mode = "abc} : f32[2]'), 'ParseError', 3, 29, /unterminated string/);
  fails(wrap('  %"y = onnx.Neg(%x) : f32[2]'), 'ParseError', 3, 3, /unterminated string/);
});

test('an unexpected character', () => {
  fails(wrap('  %y = onnx.Neg(%x) ; f32[2]'), 'ParseError', 3, 21, /unexpected character ";"/);
});

test('a bad escape in a string', () => {
  fails(wrap('  %y = onnx.Neg(%x) {mode = "a\\qb"} : f32[2]'), 'ParseError', 3, 29, /bad escape/);
});

test('a dense literal with the wrong element count', () => {
  fails(wrap('  %c = const f32[2, 2] dense<[1.0, 2.0, 3.0]>'), 'TypeError', 3, 24, /3 elements but f32\[2, 2\] needs 4/);
});

test('a dense element that does not fit its dtype', () => {
  fails(wrap('  %c = const i8[2] dense<[1, 300]>'), 'TypeError', 3, 30, /300 is out of range for i8/);
  fails(wrap('  %c = const i32[1] dense<[1.5]>'), 'TypeError', 3, 28, /expected an integer/);
  fails(wrap('  %c = const f4e2m1[1] dense<[nan]>'), 'TypeError', 3, 31, /no NaN/);
  fails(wrap('  %c = const f32[1] dense<["a"]>'), 'TypeError', 3, 28, /expected a number/);
});

test('an unknown dtype', () => {
  fails(wrap('  %c = const f31[2] dense<[1.0, 2.0]>'), 'TypeError', 3, 14, /unknown dtype 'f31'/);
  fails(wrap('', '(%x: q8[2]) -> ()'), 'TypeError', 2, 17, /unknown dtype 'q8'/);
});

test('a reference to an undefined value', () => {
  fails(wrap('  %y = onnx.Add(%x, %foo) : f32[2]'), 'TypeError', 3, 21, /undefined value %foo/);
  fails('graph @main() -> (f32[2]) {\n  return %nope\n}', 'TypeError', 2, 10, /undefined value %nope/);
});

test('a value defined twice, also across nested graphs', () => {
  fails(wrap('  %y = onnx.Neg(%x) : f32[2]\n  %y = onnx.Neg(%x) : f32[2]'), 'TypeError', 4, 3, /%y is defined twice/);
  fails(
    wrap('  %c = onnx.If(%x) {then_branch = graph @t() -> () {\n    %x = onnx.Neg(%x) : f32[2]\n    return\n  }}'),
    'TypeError', 4, 5, /%x is defined twice/,
  );
});

test('result types must match the results', () => {
  fails(wrap('  %y, %z = onnx.Split(%x) : f32[1]'), 'TypeError', 3, 27, /2 results but 1 result types/);
  fails(wrap('  %y, _ = onnx.Split(%x) : f32[1], f32[1]'), 'TypeError', 3, 7, /omitted result/);
  fails('graph @main(%x: f32[2]) -> (f32[3]) {\n  return %x\n}', 'TypeError', 2, 10, /declared f32\[3\] but %x is f32\[2\]/);
});

test('a constant needs a static shape', () => {
  fails(wrap('  %c = const f32[n] dense<[1.0]>'), 'TypeError', 3, 14, /static shape/);
});

test('an empty list needs its kind', () => {
  fails(wrap('  %y = onnx.Neg(%x) {axes = []} : f32[2]'), 'TypeError', 3, 29, /empty list needs its kind/);
  fails(wrap('  %y = onnx.Neg(%x) {axes = [1, "a"]} : f32[2]'), 'TypeError', 3, 29, /holds a string/);
});

test('@file paths must stay inside the model folder', () => {
  const c = (p: string) => wrap(`  %w = const f32[2] @file(${JSON.stringify(p)}, offset = 0, length = 8)`);
  fails(c('../secret.bin'), 'ExternalDataError', 3, 27, /leaves the folder/);
  fails(c('a/../../x.bin'), 'ExternalDataError', 3, 27, /leaves the folder/);
  fails(c('/etc/passwd'), 'ExternalDataError', 3, 27, /must be relative/);
  fails(wrap('  %w = const f32[2] @file("w.bin", offset = 0, length = 7)'), 'TypeError', 3, 21, /needs 8 bytes/);
});

test('@file paths resolve against the .lir folder by default', () => {
  const m = parseModel('graph @main() -> (f32[2]) {\n  %w = const f32[2] @file("sub/w.bin", offset = 64, length = 8)\n  return %w\n}', {
    file: '/models/a/net.lir',
  });
  const d = m.graph.constants[0]!.tensor.data;
  assert.equal(d, { kind: 'file', path: '/models/a/sub/w.bin', offset: 64, length: 8 });
});

test.run();
