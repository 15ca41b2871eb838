// The FileCheck matcher the golden tests rely on: each directive, passing and failing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckSyntaxError, fileCheck, parseChecks } from './filecheck.ts';

const OUT = `graph @main(%x: f32[4]) -> (f32[4]) {
  %a = onnx.Relu(%x) : f32[4]
  %b = onnx.Neg(%a) : f32[4]

  return %b
}
graph @other(%y: f32[2]) -> (f32[2]) {
  %c = onnx.Relu(%y) : f32[2]
  return %c
}
`;

const check = (checks: string) => fileCheck(OUT, parseChecks(checks));
const passes = (checks: string) => {
  const r = check(checks);
  assert.ok(r.ok, r.ok ? '' : r.message);
};
const fails = (checks: string, why: RegExp) => {
  const r = check(checks);
  assert.not.ok(r.ok, `expected a failure for:\n${checks}`);
  if (!r.ok) assert.match(r.message, why);
};

test('CHECK finds text in order, each after the previous match', () => {
  passes('// CHECK: onnx.Relu\n// CHECK: onnx.Neg\n// CHECK: return %b');
  fails('// CHECK: onnx.Neg\n// CHECK: %a = onnx.Relu(%x)', /check:2: CHECK: %a = onnx\.Relu\(%x\)\n  not found/);
});

test('CHECK-NEXT wants the very next line; CHECK-SAME the same line; CHECK-EMPTY an empty one', () => {
  passes('// CHECK: %a =\n// CHECK-NEXT: %b =\n// CHECK-EMPTY:\n// CHECK-NEXT: return %b');
  fails('// CHECK: %a =\n// CHECK-NEXT: return %b', /not on the next line/);
  passes('// CHECK: %b =\n// CHECK-SAME: onnx.Neg\n// CHECK-SAME: f32[4]');
  fails('// CHECK: %b =\n// CHECK-SAME: return', /not on the same line/);
  fails('// CHECK: %a =\n// CHECK-EMPTY:', /next line is not empty/);
});

test('CHECK-NOT: absent between the surrounding matches, or to the end', () => {
  passes('// CHECK: @main\n// CHECK-NOT: onnx.Add\n// CHECK: return %b');
  // Neg lies between @main and return, so this fails…
  fails('// CHECK: @main\n// CHECK-NOT: onnx.Neg\n// CHECK: return %b', /found \(but must not be\) on output line 3/);
  // …but not when the NOT region starts after it.
  passes('// CHECK: return %b\n// CHECK-NOT: onnx.Neg');
  fails('// CHECK: return %b\n// CHECK-NOT: onnx.Relu', /must not be/);
  fails('// CHECK-NOT: @other', /must not be/);
});

test('CHECK-DAG: any order, no overlap, the next check continues after the last', () => {
  passes('// CHECK-DAG: %b = onnx.Neg\n// CHECK-DAG: %a = onnx.Relu\n// CHECK-EMPTY:\n// CHECK: return %b');
  passes('// CHECK-DAG: onnx.Relu\n// CHECK-DAG: onnx.Relu\n// CHECK-NOT: onnx.Neg');
  fails('// CHECK-DAG: onnx.Neg\n// CHECK-DAG: onnx.Neg', /CHECK-DAG: onnx\.Neg\n  not found/);
  fails('// CHECK-DAG: %b = onnx.Neg\n// CHECK-DAG: %a = onnx.Relu\n// CHECK: onnx.Relu(%x)', /check:3: CHECK: onnx\.Relu\(%x\)\n  not found/);
  fails('// CHECK-NOT: @main\n// CHECK-DAG: onnx.Neg', /must not be/);
});

test('CHECK-LABEL bounds the checks after it to its block', () => {
  passes('// CHECK-LABEL: @main\n// CHECK: onnx.Relu\n// CHECK-LABEL: @other\n// CHECK: onnx.Relu');
  // The Relu of @other must not satisfy a check in @main's block.
  fails('// CHECK-LABEL: @main\n// CHECK: %c = onnx.Relu\n// CHECK-LABEL: @other', /not found/);
  passes('// CHECK-LABEL: @main\n// CHECK-NOT: %c\n// CHECK-LABEL: @other\n// CHECK-NEXT: %c = onnx.Relu');
  fails('// CHECK-LABEL: @nope', /CHECK-LABEL: @nope\n  not found/);
});

test('{{regex}} and runs of spaces', () => {
  passes('// CHECK: %{{[a-z]}} = onnx.{{Relu|Neg}}({{%x}})');
  passes('// CHECK: return      %b');
  passes('// CHECK: f32[4]) -> (f32[4])'); // brackets and parentheses are literal outside {{ }}
  fails('// CHECK: %{{[0-9]+}} =', /not found/);
  assert.throws(() => check('// CHECK: {{(}}'), (e: unknown) => e instanceof CheckSyntaxError);
});

test('[[NAME:regex]] captures, [[NAME]] must match the same text (also within one line)', () => {
  passes('// CHECK: %[[R:[a-z]+]] = onnx.Relu(%x)\n// CHECK: onnx.Neg(%[[R]])');
  fails('// CHECK: %[[R:[a-z]+]] = onnx.Neg\n// CHECK: onnx.Relu(%[[R]])', /not found[\s\S]*variables: R="b"/);
  passes('// CHECK: graph @main(%[[X:[a-z]]]: f32[4]) -> ({{[a-z0-9]+}}[4])');
  passes('// CHECK: %[[V:[a-z]]] = onnx.Neg(%{{.}}) : f32[4]\n// CHECK: return %[[V]]');
  // Groups inside a {{regex}} do not shift the numbering of captures after them.
  passes('// CHECK: {{(onnx)}}.Neg(%[[P:[a-z]]]){{( :)}} f32[4]\n// CHECK-NOT: %[[P]] = onnx.Neg');
  fails('// CHECK: return %[[NOPE]]', /uses \[\[NOPE\]\] before any check defines it/);
});

test('check lines: typos and empty patterns are errors, plain comments are ignored', () => {
  assert.equal(parseChecks('// a comment\n// CHECK: x\n  //   CHECK-NEXT:   y  ').map((c) => [c.kind, c.pattern, c.line]), [
    ['CHECK', 'x', 2],
    ['CHECK-NEXT', 'y', 3],
  ]);
  assert.throws(() => parseChecks('// CHECK-NXT: y'), /unknown check 'CHECK-NXT'/);
  assert.throws(() => parseChecks('// CHECK-NOT:'), /empty pattern/);
  assert.throws(() => parseChecks('// CHECK y'), /needs a ':'/);
  assert.throws(() => parseChecks('// CHECK : y'), /no space allowed/);
});

test.run();
