// If, Loop and Scan: bodies inferred as subgraphs, types merged across paths and iterations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { at, G, latheError } from './shape-helpers.ts';

test('If merges its branches: agreeing dims stay, others become unknown', () => {
  const thenG = new G('then').node('Identity', ['a'], 'ta').graph(['ta']);
  const elseG = new G('else').node('Identity', ['b'], 'eb').graph(['eb']);
  const t = new G().in('c', 'bool[]').in('a', 'f32[batch, 3]').in('b', 'f32[batch, 4]')
    .node('If', ['c'], 'y', { then_branch: at.graph(thenG), else_branch: at.graph(elseG) }).infer(['y']);
  assert.is(t.y, 'f32[batch, ?]');
  const same = new G().in('c', 'bool[]').in('a', 'f32[batch, 3]')
    .node('If', ['c'], 'y', { then_branch: at.graph(thenG), else_branch: at.graph(new G('e').node('Neg', ['a'], 'n').graph(['n'])) })
    .infer(['y']);
  assert.is(same.y, 'f32[batch, 3]');
  const ranks = new G().in('c', 'bool[]').in('a', 'f32[batch, 3]').in('b', 'f32[3]')
    .node('If', ['c'], 'y', { then_branch: at.graph(thenG), else_branch: at.graph(elseG) }).infer(['y']);
  assert.is(ranks.y, 'f32[*]');
  const e = latheError(() => new G().in('c', 'bool[]').in('a', 'f32[2]').in('b', 'i64[2]')
    .node('If', ['c'], 'y', { then_branch: at.graph(thenG), else_branch: at.graph(elseG) }, 'iff').infer(['y']));
  assert.is(e.kind, 'ShapeError');
  assert.is(e.where.node, 'iff');
});

test('If branches see outer values and infer their own nodes', () => {
  const thenG = new G('then').i64('s', [-1]).node('Reshape', ['x', 's'], 'flat').graph(['flat']);
  const elseG = new G('else').i64('s', [0, -1]).node('Reshape', ['x', 's'], 'flat2').node('Flatten', ['flat2'], 'f', { axis: at.int(0) }).graph(['f']);
  const t = new G().in('c', 'bool[]').in('x', 'f32[2, 6]')
    .node('If', ['c'], 'y', { then_branch: at.graph(thenG), else_branch: at.graph(elseG) }).infer(['y']);
  assert.is(t.y, 'f32[*]');
});

/** Loop body: (i, cond, x) → (cond, x + w, scan: x + w). */
function loopBody() {
  return new G('body').in('i', 'i64[]').in('cond', 'bool[]').in('x', 'f32[*]')
    .node('Add', ['x', 'w'], 'nx').node('Identity', ['cond'], 'c2').node('Relu', ['nx'], 'sc')
    .graph(['c2', 'nx', 'sc']);
}

test('Loop: carried values keep their type, scan outputs gain a leading trip dim', () => {
  const t = new G().in('x0', 'f32[batch, 4]').in('w', 'f32[4]').in('cond', 'bool[]').i64('m', [5], true)
    .node('Loop', ['m', 'cond', 'x0'], ['xf', 'xs'], { body: at.graph(loopBody()) }).infer(['xf']);
  assert.is(t.xf, 'f32[batch, 4]');
  assert.is(t.xs, 'f32[?, batch, 4]');
  // No condition: exactly M iterations.
  const m = new G().in('x0', 'f32[batch, 4]').in('w', 'f32[4]').i64('m', [5], true)
    .node('Loop', ['m', '', 'x0'], ['xf', 'xs'], { body: at.graph(loopBody()) }).infer(['xf']);
  assert.is(m.xs, 'f32[5, batch, 4]');
});

test('Loop widens a carried value whose shape changes per iteration', () => {
  const body = new G('body').in('i', 'i64[]').in('cond', 'bool[]').in('acc', 'f32[*]')
    .f32('one', [1]).node('Concat', ['acc', 'one'], 'acc2', { axis: at.int(0) }).node('Identity', ['cond'], 'c2')
    .graph(['c2', 'acc2']);
  const t = new G().in('a0', 'f32[1]').in('m', 'i64[]').in('cond', 'bool[]')
    .node('Loop', ['m', 'cond', 'a0'], ['af'], { body: at.graph(body) }).infer(['af']);
  assert.is(t.af, 'f32[?]');
  const e = latheError(() => new G().in('a0', 'f32[1]').in('m', 'i64[]')
    .node('Loop', ['m', '', 'a0'], ['af', 'extra'], { body: at.graph(body) }, 'lp').infer(['af']));
  assert.is(e.where.node, 'lp');
});

test('Scan (opset 9+): states, scan inputs sliced on their axis, scan outputs stacked', () => {
  const body = new G('body').in('s', 'f32[*]').in('xt', 'f32[*]')
    .node('Add', ['s', 'xt'], 's2').node('Identity', ['s2'], 'y')
    .graph(['s2', 'y']);
  const t = new G().in('s0', 'f32[4]').in('xs', 'f32[seq, 4]')
    .node('Scan', ['s0', 'xs'], ['sf', 'ys'], { body: at.graph(body), num_scan_inputs: at.int(1) })
    .node('Scan', ['s0', 'xs'], ['sf2', 'ys2'], { body: at.graph(body), num_scan_inputs: at.int(1), scan_output_axes: at.ints(-1) })
    .infer(['sf']);
  assert.is(t.sf, 'f32[4]');
  assert.is(t.ys, 'f32[seq, 4]');
  assert.is(t.ys2, 'f32[4, seq]');
  const tr = new G().in('s0', 'f32[4]').in('xs', 'f32[4, seq]')
    .node('Scan', ['s0', 'xs'], ['sf', 'ys'], { body: at.graph(body), num_scan_inputs: at.int(1), scan_input_axes: at.ints(1) })
    .infer(['sf']);
  assert.is(tr.ys, 'f32[seq, 4]');
});

test('Scan opset 8: batch axis and sequence_lens operand', () => {
  const body = new G('body').in('s', 'f32[*]').in('xt', 'f32[*]')
    .node('Add', ['s', 'xt'], 's2').node('Identity', ['s2'], 'y').graph(['s2', 'y']);
  const t = new G().in('s0', 'f32[batch, 4]').in('xs', 'f32[batch, seq, 4]')
    .node('Scan', ['', 's0', 'xs'], ['sf', 'ys'], { body: at.graph(body), num_scan_inputs: at.int(1) }).infer(['sf'], 8);
  assert.is(t.sf, 'f32[batch, 4]');
  assert.is(t.ys, 'f32[batch, seq, 4]');
});

test.run();
