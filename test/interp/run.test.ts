// The interpreter driver: inputs by name and position, defaults, constants, liveness, subgraph
// scoping, If/Loop/Scan, and the errors it reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import type { Attr, Graph, Model, Node } from '../../ir/graph.ts';
import { ONNX_DOMAIN } from '../../ir/graph.ts';
import { defineEval } from '../../ir/interp/registry.ts';
import { livenessPlan, runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue, Tensor } from '../../ir/interp/tensor.ts';
import { isTensor, toConst } from '../../ir/interp/tensor.ts';
import type { ValueType } from '../../ir/types.ts';
import { tensor } from '../../ir/types.ts';
import { f32, i64, t, toAttr, values } from './helpers.ts';

const F = (...shape: number[]): ValueType => tensor('f32', shape);
const PH = { kind: 'tensor', dtype: 'f32', shape: null, placeholder: true } as unknown as ValueType;

function node(op: string, inputs: (string | null)[], outputs: string[], attrs: Record<string, Attr | number | string | number[]> = {}, domain = ONNX_DOMAIN): Node {
  return {
    name: `${op}:${outputs[0]}`,
    op,
    domain,
    inputs,
    outputs: outputs.map((name) => ({ name, type: PH })),
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'object' && !Array.isArray(v) ? v : toAttr(v as never)])),
  };
}
function graph(name: string, inputs: [string, ValueType][], nodes: Node[], outputs: string[], constants: [string, Tensor][] = []): Graph {
  return {
    name,
    inputs: inputs.map(([n, type]) => ({ name: n, type })),
    constants: constants.map(([n, v]) => ({ name: n, tensor: toConst(v) })),
    nodes,
    outputs,
  };
}
const model = (g: Graph, opset = 17): Model => ({ graph: g, opsets: { [ONNX_DOMAIN]: opset } });
const tensors = (vs: RuntimeValue[]): Tensor[] => vs.map((v) => (isTensor(v) ? v : assert.unreachable('not a tensor') as never));

const addMul = model(
  graph('g', [['x', F(2)], ['y', F(2)]], [node('Add', ['x', 'y'], ['s']), node('Mul', ['s', 'k'], ['p'])], ['p', 's'], [['k', f32([], [10])]]),
);

test('inputs by position or by name; constants; several outputs', () => {
  const [p, s] = tensors(runModel(addMul, [f32([2], [1, 2]), f32([2], [3, 4])]));
  assert.equal(values(p!), [40, 60]);
  assert.equal(values(s!), [4, 6]);
  const byName = tensors(runModel(addMul, new Map([['y', f32([2], [1, 1])], ['x', f32([2], [0, 1])]])));
  assert.equal(values(byName[0]!), [10, 20]);
});

test('a missing input, an unknown input, or a wrong dtype is a clear error', () => {
  assert.throws(() => runModel(addMul, [f32([2], [1, 2])]), /input 'y' .* is not given/);
  assert.throws(() => runModel(addMul, new Map([['z', f32([2], [1, 2])]])), /no input 'z'/);
  assert.throws(() => runModel(addMul, [i64([2], [1, 2]), f32([2], [1, 2])]), /input 'x' is i64\[2\] but its declared type is f32\[2\]/);
});

test('inputs with initializer defaults may be left out', () => {
  const g: Graph = { ...graph('g', [['x', F(1)], ['b', F(1)]], [node('Add', ['x', 'b'], ['y'])], ['y']), inputDefaults: [{ name: 'b', tensor: toConst(f32([1], [100])) }] };
  assert.equal(values(tensors(runModel(model(g), [f32([1], [1])]))[0]!), [101]);
  assert.equal(values(tensors(runModel(model(g), [f32([1], [1]), f32([1], [2])]))[0]!), [3]);
});

test('liveness drops each value after its last use, counting uses inside subgraphs', () => {
  const thenG = graph('then', [], [node('Neg', ['a'], ['na'])], ['na']);
  const elseG = graph('else', [], [node('Identity', ['b'], ['nb'])], ['nb']);
  const g = graph(
    'g',
    [['x', F(1)], ['c', tensor('bool', [])]],
    [
      node('Relu', ['x'], ['a']), // 0
      node('Abs', ['x'], ['b']), // 1: last plain use of x
      node('Exp', ['b'], ['unused']), // 2
      node('If', ['c'], ['r'], { then_branch: { kind: 'graph', value: thenG }, else_branch: { kind: 'graph', value: elseG } }), // 3
      node('Add', ['r', 'r'], ['out']), // 4
    ],
    ['out'],
  );
  const plan = livenessPlan(g);
  assert.equal(plan.freeAfter.map((names) => [...names].sort()), [[], ['x'], ['unused'], ['a', 'b', 'c'], ['r']]);
  const run = (c: number) => values(tensors(runModel(model(g), [f32([1], [-3]), t('bool', [], [c])]))[0]!);
  assert.equal(run(1), [-0]); // -(relu(-3)) = -0, doubled
  assert.equal(run(0), [6]);
});

test('Loop: trip count, condition, carried values, scan outputs, outer scope', () => {
  // body(i, cond, acc): acc' = acc + i * step (step from the outer scope); emits acc'; stops when acc' > 5.
  const body = graph(
    'body',
    [['i', tensor('i64', [])], ['cond', tensor('bool', [])], ['acc', tensor('i64', [])]],
    [node('Mul', ['i', 'step'], ['is']), node('Add', ['acc', 'is'], ['acc2']), node('Greater', ['acc2', 'five'], ['stop']), node('Not', ['stop'], ['go'])],
    ['go', 'acc2', 'acc2'],
    [['five', i64([], [5])]],
  );
  const g = graph(
    'g',
    [['n', tensor('i64', [])], ['step', tensor('i64', [])]],
    [node('Loop', ['n', null, 'zero'], ['final', 'trace'], { body: { kind: 'graph', value: body } })],
    ['final', 'trace'],
    [['zero', i64([], [0])]],
  );
  const [final, trace] = tensors(runModel(model(g), [i64([], [100]), i64([], [2])]));
  assert.equal(values(final!), [6n]); // 0, 2, 6 → stops after acc' = 6 > 5
  assert.equal(values(trace!), [0n, 2n, 6n]);
  assert.equal([...trace!.shape], [3]);
  const [f2, t2] = tensors(runModel(model(g), [i64([], [2]), i64([], [1])]));
  assert.equal([values(f2!), values(t2!)], [[1n], [0n, 1n]]); // trip count wins
});

test('Scan: running sum with a reversed input and an axis-1 output', () => {
  const body = graph('body', [['s', F(2)], ['x', F(2)]], [node('Add', ['s', 'x'], ['s2']), node('Identity', ['s2'], ['y'])], ['s2', 'y']);
  const g = graph(
    'g',
    [['init', F(2)], ['xs', F(3, 2)]],
    [node('Scan', ['init', 'xs'], ['final', 'ys'], { body: { kind: 'graph', value: body }, num_scan_inputs: 1, scan_input_directions: [1], scan_output_axes: [1] })],
    ['final', 'ys'],
  );
  const [final, ys] = tensors(runModel(model(g), [f32([2], [0, 0]), f32([3, 2], [1, 2, 3, 4, 5, 6])]));
  assert.equal(values(final!), [9, 12]);
  // steps see rows 2, 1, 0: sums [5,6], [8,10], [9,12]; stacked on axis 1 → [2, 3]
  assert.equal([...ys!.shape], [2, 3]);
  assert.equal(values(ys!), [5, 8, 9, 6, 10, 12]);
});

test('a node without an evaluator is UnsupportedOp naming the node and op', () => {
  const g = graph('g', [['x', F(1)]], [node('NoSuchOp', ['x'], ['y'])], ['y']);
  try {
    runModel(model(g), [f32([1], [1])]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LatheError);
    assert.is((e as LatheError).kind, 'UnsupportedOp');
    assert.match((e as Error).message, /node 'NoSuchOp:y', op onnx\.NoSuchOp: .*no evaluator/);
  }
});

defineEval('test', 'Boom', () => {
  throw new Error('kaboom');
});
defineEval('test', 'WrongType', () => [i64([1], [1])]);

test('an evaluator that fails is a LatheError naming node, op and operands — also inside a subgraph', () => {
  const inner = graph('inner', [], [node('Boom', ['x'], ['z'], {}, 'test')], ['z']);
  const g = graph('g', [['x', F(1)], ['c', tensor('bool', [])]], [node('If', ['c'], ['y'], { then_branch: { kind: 'graph', value: inner }, else_branch: { kind: 'graph', value: inner } })], ['y']);
  try {
    runModel(model(g), [f32([1], [1]), t('bool', [], [1])]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LatheError);
    assert.match((e as Error).message, /node 'Boom:z', op test\.Boom: evaluation failed \(inputs f32\[1\]\): kaboom/);
  }
});

test('a result that contradicts its declared type is reported (checkTypes)', () => {
  const g = graph('g', [['x', F(1)]], [{ ...node('WrongType', ['x'], ['y'], {}, 'test'), outputs: [{ name: 'y', type: F(1) }] }], ['y']);
  assert.throws(() => runModel(model(g), [f32([1], [1])]), /result 'y' is i64\[1\] but its declared type is f32\[1\]/);
  assert.equal(values(tensors(runModel(model(g), [f32([1], [1])], { checkTypes: false }))[0]!), [1n]);
});

test('onNode sees every node, subgraph nodes with their depth', () => {
  const seen: string[] = [];
  runModel(addMul, [f32([2], [1, 2]), f32([2], [3, 4])], {
    onNode: (n, results, depth) => seen.push(`${n.op}@${depth}:${values(results[0] as Tensor).join(',')}`),
  });
  assert.equal(seen, ['Add@0:4,6', 'Mul@0:40,60']);
  const thenG = graph('then', [], [node('Neg', ['x'], ['nx'])], ['nx']);
  const g = graph('g', [['x', F(1)], ['c', tensor('bool', [])]], [node('If', ['c'], ['y'], { then_branch: { kind: 'graph', value: thenG }, else_branch: { kind: 'graph', value: thenG } })], ['y']);
  const ops: string[] = [];
  runModel(model(g), [f32([1], [2]), t('bool', [], [1])], { onNode: (n, _, d) => ops.push(`${n.op}@${d}`) });
  assert.equal(ops, ['Neg@1', 'If@0']);
});

test.run();
