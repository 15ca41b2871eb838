// The verifier's rules, one test per rule, each checking the error kind and what it names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Model, Node } from '../../ir/graph.ts';
import { LatheError } from '../../ir/errors.ts';
import { defineOp, exactly } from '../../ir/op.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { verifyModel } from '../../ir/verify.ts';

// A test-only op holding a subgraph, so scoping is tested without depending on If/Loop.
defineOp({
  domain: 'test',
  name: 'Call',
  inputs: exactly(0),
  outputs: exactly(1),
  attrs: { body: { kind: 'graph', required: true } },
  infer: (ctx) => ctx.subgraph('body', []),
});

const f32 = (...shape: (number | string)[]) => tensor('f32', shape);

function chain(): Model {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32('batch', 4));
  const y = b.op('Relu', [x], {}, { name: 'relu' });
  const z = b.op('Add', [y, x], {}, { name: 'add' });
  return b.returns(z).model();
}

function expectError(m: Model, kind: string, ...fragments: string[]): LatheError {
  try {
    verifyModel(m, { file: 'm.lir' });
  } catch (e) {
    assert.instance(e, LatheError);
    const err = e as LatheError;
    assert.is(err.kind, kind, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `'${err.message}' should mention '${f}'`);
    return err;
  }
  assert.unreachable('verifyModel should have thrown');
  throw new Error();
}

const withNodes = (m: Model, nodes: Node[]): Model => ({ ...m, graph: { ...m.graph, nodes } });

test('a well-formed graph verifies, with symbolic dims inferred', () => {
  const m = chain();
  verifyModel(m);
  assert.equal(m.graph.nodes[1]!.outputs[0]!.type, f32('batch', 4));
});

test('a dangling operand is named with its node', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  expectError(withNodes(m, [relu!, { ...add!, inputs: ['nowhere', 'x'] }]), 'VerifyError', "'nowhere'", "node 'add'", 'm.lir');
});

test('a value defined twice is refused', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  expectError(withNodes(m, [relu!, { ...add!, outputs: [relu!.outputs[0]!] }]), 'VerifyError', 'defined more than once');
});

test('nodes out of topological order are refused', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  expectError(withNodes(m, [add!, relu!]), 'VerifyError', 'topological order');
});

test('a cycle is reported as a cycle', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  const z = add!.outputs[0]!.name;
  expectError(withNodes(m, [{ ...relu!, inputs: [z] }, add!]), 'VerifyError', 'cycle', 'relu', 'add');
});

test('a stored type its op cannot produce is an inconsistent shape', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  const badRelu = { ...relu!, outputs: [{ name: relu!.outputs[0]!.name, type: f32('batch', 5) }] };
  expectError(withNodes(m, [badRelu, add!]), 'ShapeError', 'inconsistent', "node 'relu'");
});

test('an unknown op names the op, the node and what is supported', () => {
  const m = chain();
  const [relu, add] = m.graph.nodes;
  expectError(withNodes(m, [{ ...relu!, op: 'Frobnicate' }, add!]), 'UnsupportedOp', 'Frobnicate', "node 'relu'", 'Relu');
});

test('a constant with fewer bytes than its shape needs is refused', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32(4));
  const w = b.constant('w', constTensor('f32', [4], [1, 2, 3, 4]));
  const m = b.returns(b.op('Add', [x, w])).model();
  const short = { ...m.graph.constants[0]!, tensor: { ...m.graph.constants[0]!.tensor, shape: [8] } };
  expectError({ ...m, graph: { ...m.graph, constants: [short] } }, 'TensorDataError', "'w'", '32 bytes', '16 bytes');
});

test('a subgraph reads values of the scope around it, but not later ones', () => {
  const inner = (reads: string): Graph => {
    const b = new GraphBuilder('body');
    return b.returns(b.op('Relu', [reads], {}, { name: 'inner_relu' })).subgraph();
  };
  const outer = (reads: string): Model => {
    const b = new GraphBuilder('g');
    const x = b.input('x', f32(3));
    const c = b.op('Call', [], { body: inner(reads) }, { domain: 'test', name: 'call' });
    const late = b.op('Relu', [x], {}, { name: 'late' });
    return { graph: b.returns(c, late).subgraph(), opsets: { 'ai.onnx': 17, test: 1 } };
  };
  verifyModel(outer('x'));
  expectError(outer('relu1'), 'VerifyError', "'relu1'", "node 'inner_relu'");
});

test('a graph returning an undefined value is refused', () => {
  const m = chain();
  expectError({ ...m, graph: { ...m.graph, outputs: ['ghost'] } }, 'VerifyError', "'ghost'");
});

test.run();
