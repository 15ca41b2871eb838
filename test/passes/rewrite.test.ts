// The pattern-rewriting engine (passes/rewrite.ts) and the graph-edit helpers: captures,
// commutative matching, predicates, the single-use rule, the fixpoint driver and its bound.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import type { Model } from '../../ir/graph.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { verifyModel } from '../../ir/verify.ts';
import { NameGen, freeVars, renameUses, useCounts } from '../../passes/graph-edit.ts';
import type { Rule } from '../../passes/rewrite.ts';
import { all, any, constScalar, dtypeIs, isConst, matchAt, op, oneOf, rankIs, rewriteGreedily, staticShape } from '../../passes/rewrite.ts';
import { Scope } from '../../passes/graph-edit.ts';

const model = (body: string, sig = '%x: f32[2, 3]', ret = 'f32[2, 3]', opset = 17): Model =>
  parseModel(`lathe.model {opsets = {onnx = ${opset}}}\ngraph @main(${sig}) -> (${ret}) {\n${body}\n}`);

const nodeNamed = (m: Model, result: string) => m.graph.nodes.find((n) => n.outputs[0]?.name === result)!;
const matchOn = (m: Model, p: ReturnType<typeof op>, result: string) => matchAt(p, nodeNamed(m, result), new Scope(m.graph), m.graph);

const negNeg: Rule = { name: 'neg-neg', pattern: op('Neg', [op('Neg', [any('x')])]), rewrite: (m) => m.values.x! };

test('captures bind values; a name used twice must bind the same value', () => {
  const m = model(`  %s = onnx.Sigmoid(%x) : f32[2, 3]\n  %y = onnx.Mul(%x, %s) : f32[2, 3]\n  %t = onnx.Sigmoid(%x) : f32[2, 3]\n  %z = onnx.Mul(%y, %t) : f32[2, 3]\n  return %z`);
  const p = op('Mul', [any('a'), op('Sigmoid', [any('a')])]);
  assert.equal(matchOn(m, p, 'y')?.values, { a: 'x' });
  assert.is(matchOn(m, p, 'z'), undefined); // y · sigmoid(x): a would be both y and x
});

test('commutative ops match either operand order; others do not', () => {
  const m = model(`  %s = onnx.Sigmoid(%x) : f32[2, 3]\n  %y = onnx.Mul(%s, %x) : f32[2, 3]\n  %t = onnx.Sigmoid(%y) : f32[2, 3]\n  %z = onnx.Sub(%t, %x) : f32[2, 3]\n  return %z`);
  assert.ok(matchOn(m, op('Mul', [any('a'), op('Sigmoid', [any('a')])]), 'y'));
  assert.not.ok(matchOn(m, op('Sub', [any('a'), op('Sigmoid', [any()])]), 'z'));
  assert.ok(matchOn(m, op('Sub', [op('Sigmoid', [any()]), any('a')]), 'z'));
});

test('constant and type predicates; oneOf alternatives; attribute predicates', () => {
  const m = model(
    `  %h = const f32[] dense<[0.5]>\n  %k = onnx.Constant() {value = f32[1] dense<[2.0]>} : f32[1]\n  %a = onnx.Mul(%x, %h) : f32[2, 3]\n  %b = onnx.Pow(%a, %k) : f32[2, 3]\n  %c = onnx.Softmax(%b) {axis = 1} : f32[2, 3]\n  return %c`,
  );
  assert.ok(matchOn(m, op('Mul', [any('v', all(dtypeIs('f32'), rankIs(2), staticShape)), constScalar(0.5)]), 'a'));
  assert.not.ok(matchOn(m, op('Mul', [any(), constScalar(0.25)]), 'a'));
  assert.not.ok(matchOn(m, op('Mul', [any('v', rankIs(3)), any()]), 'a'));
  // A Constant node's value counts as a constant.
  assert.ok(matchOn(m, op('Pow', [any(), oneOf(constScalar(3), constScalar(2))]), 'b'));
  assert.ok(matchOn(m, op('Pow', [any(), isConst('e')]), 'b'));
  const axis1 = (n: { attrs: Record<string, { value: unknown }> }) => n.attrs.axis?.value === 1;
  assert.ok(matchOn(m, op('Softmax', [any()], { attrs: axis1 }), 'c'));
});

test('an inner node read outside the match is not absorbed', () => {
  const m = model(`  %a = onnx.Neg(%x) : f32[2, 3]\n  %b = onnx.Neg(%a) : f32[2, 3]\n  %c = onnx.Add(%a, %b) : f32[2, 3]\n  return %c`);
  assert.is(matchOn(m, negNeg.pattern, 'b'), undefined);
  assert.is(rewriteGreedily(m, [negNeg]), m);
});

test('the driver rewrites to a fixpoint and removes what it absorbed', () => {
  const m = model(`  %a = onnx.Neg(%x) : f32[2, 3]\n  %b = onnx.Neg(%a) : f32[2, 3]\n  %c = onnx.Neg(%b) : f32[2, 3]\n  %d = onnx.Neg(%c) : f32[2, 3]\n  %e = onnx.Relu(%d) : f32[2, 3]\n  return %e`);
  const out = rewriteGreedily(m, [negNeg]);
  verifyModel(out);
  assert.equal(out.graph.nodes.map((n) => n.op), ['Relu']);
  assert.equal(out.graph.nodes[0]!.inputs, ['x']);
  assert.ok(Object.isFrozen(out.graph), 'results come out frozen, as immer makes them');
  assert.is(rewriteGreedily(out, [negNeg]), out, 'nothing to do: the same object');
});

test('new nodes get inferred types and take over the root result name', () => {
  const rule: Rule = {
    name: 'mul-to-add',
    pattern: op('Mul', [any('x'), constScalar(2)]),
    rewrite: (m, b) => b.op('Add', [m.values.x!, m.values.x!]),
  };
  const m = model(`  %two = const f32[] dense<[2.0]>\n  %y = onnx.Mul(%x, %two) : f32[2, 3]\n  return %y`);
  const out = rewriteGreedily(m, [rule]);
  verifyModel(out);
  assert.match(printModel(out), '%y = onnx.Add(%x, %x) : f32[2, 3]');
});

test('a rule that keeps firing is reported, with its name, after max-iterations sweeps', () => {
  const flip: Rule = {
    name: 'flip',
    pattern: op('Add', [any('a'), any('b')], { commutative: false }),
    rewrite: (m, b) => b.op('Add', [m.values.b!, m.values.a!]),
  };
  const m = model(`  %y = onnx.Add(%x, %x) : f32[2, 3]\n  %z = onnx.Relu(%y) : f32[2, 3]\n  return %z`);
  const before = printModel(m);
  try {
    rewriteGreedily(m, [flip], { maxIterations: 5 });
    assert.unreachable('should not converge');
  } catch (e) {
    assert.instance(e, LatheError);
    assert.is((e as LatheError).kind, 'PassError');
    assert.match((e as LatheError).message, /did not converge in 5 sweeps.*flip/);
  }
  assert.is(printModel(m), before, 'the input is untouched');
});

test('rewrites reach into subgraphs', () => {
  const m = parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%c: bool[], %x: f32[2]) -> (f32[2]) {
  %y = onnx.If(%c) {then_branch = graph @t() -> (f32[2]) {
    %a = onnx.Neg(%x) : f32[2]
    %b = onnx.Neg(%a) : f32[2]
    return %b
  }, else_branch = graph @e() -> (f32[2]) {
    return %x
  }} : f32[2]
  return %y
}`);
  const out = rewriteGreedily(m, [negNeg]);
  verifyModel(out);
  assert.match(printModel(out), /graph @t\(\) -> \(f32\[2\]\) \{\n\s+return %x/);
});

test('graph-edit: use counts, free variables, renames, fresh names', () => {
  const m = parseModel(`lathe.model {opsets = {onnx = 17}}
graph @main(%c: bool[], %x: f32[2]) -> (f32[2]) {
  %n = onnx.Neg(%x) : f32[2]
  %y = onnx.If(%c) {then_branch = graph @t() -> (f32[2]) {
    %a = onnx.Add(%n, %x) : f32[2]
    return %a
  }, else_branch = graph @e() -> (f32[2]) {
    return %n
  }} : f32[2]
  return %y
}`);
  const uses = useCounts(m.graph);
  assert.is(uses.get('x'), 2); // Neg, and the If's subgraphs (once per node)
  assert.is(uses.get('n'), 1);
  const sub = m.graph.nodes[1]!.attrs.then_branch!;
  assert.equal([...freeVars(sub.value as never)].sort(), ['n', 'x']);
  const g = renameUses(m.graph, new Map([['n', 'x']]));
  assert.not.match(printModel({ ...m, graph: g }), '%n)');
  assert.is(renameUses(m.graph, new Map([['zz', 'x']])), m.graph);
  const names = new NameGen(new Set(['a', 'a_1']));
  assert.is(names.fresh('a'), 'a_2');
  assert.is(names.fresh('b'), 'b');
});

test.run();
