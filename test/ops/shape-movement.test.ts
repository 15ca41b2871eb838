// Shape inference of the data-movement and indexing ops, one node at a time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { at, G, latheError } from './shape-helpers.ts';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

test('Slice clamps negative and huge bounds like ONNX', () => {
  const g = new G()
    .in('x', 'f32[batch, 10, 20]')
    .i64('s0', [0]).i64('eMax', [INT64_MAX]).i64('ax1', [1])
    .i64('sNeg', [-3]).i64('eNeg', [-1])
    .i64('sRev', [-1]).i64('eMin', [INT64_MIN]).i64('stepM1', [-1])
    .i64('s2', [2, 1]).i64('e2', [1000, 7]).i64('ax12', [2, 1]).i64('st2', [3, 2])
    .node('Slice', ['x', 's0', 'eMax', 'ax1'], 'whole')
    .node('Slice', ['x', 'sNeg', 'eNeg', 'ax1'], 'neg')
    .node('Slice', ['x', 'sRev', 'eMin', 'ax1', 'stepM1'], 'rev')
    .node('Slice', ['x', 's2', 'e2', 'ax12', 'st2'], 'steps')
    .node('Slice', ['x', 's0', 'eMax'], 'sym')
    .node('Slice', ['x', 'sNeg', 'eMax'], 'symTail');
  const t = g.infer(['whole', 'neg', 'rev', 'steps', 'sym', 'symTail']);
  assert.is(t.whole, 'f32[batch, 10, 20]');
  assert.is(t.neg, 'f32[batch, 2, 20]');
  assert.is(t.rev, 'f32[batch, 10, 20]');
  assert.is(t.steps, 'f32[batch, 3, 6]');
  assert.is(t.sym, 'f32[batch, 10, 20]');
  assert.is(t.symTail, 'f32[?, 10, 20]');
  // Opset 1–9 read the bounds from attributes.
  const old = new G().in('x', 'f32[4, 10]')
    .node('Slice', ['x'], 'y', { starts: at.ints(1, -4), ends: at.ints(3, 1000), axes: at.ints(0, 1) }).infer(['y'], 9);
  assert.is(old.y, 'f32[2, 4]');
  const unknown = new G().in('x', 'f32[4, 10]').in('s', 'i64[1]').i64('e', [5]).i64('a', [1])
    .node('Slice', ['x', 's', 'e', 'a'], 'y').infer(['y']);
  assert.is(unknown.y, 'f32[4, ?]');
});

test('Slice of a shape value keeps its symbols', () => {
  const g = new G().in('x', 'f32[batch, seq, 64]').i64('s', [-2]).i64('e', [INT64_MAX]).i64('r', [-1, 16])
    .node('Shape', ['x'], 'sh').node('Slice', ['sh', 's', 'e'], 'tail')
    .node('Concat', ['tail', 'r'], 'tgt', { axis: at.int(0) }).node('Reshape', ['x', 'tgt'], 'y');
  const t = g.infer(['y']);
  assert.is(t.tail, 'i64[2]');
  assert.is(t.y, 'f32[seq, 64, ?, 16]');
});

test('Slice to a symbolic end (a causal mask cut to seq) takes the symbol', () => {
  const g = new G().in('x', 'f32[batch, seq, 64]').in('mask', 'bool[1, 1, 128, 128]')
    .i64('one', [1], true).i64('z', [0]).i64('ax', [2, 3]).i64('zz', [0, 0])
    .node('Shape', ['x'], 's').node('Gather', ['s', 'one'], 'n').node('Unsqueeze', ['n', 'z'], 'nu')
    .node('Concat', ['nu', 'nu'], 'ends', { axis: at.int(0) })
    .node('Slice', ['mask', 'zz', 'ends', 'ax'], 'm');
  assert.is(g.infer(['m']).m, 'bool[1, 1, seq, seq]');
});

test('Transpose: default reverses, perm permutes, a bad perm fails', () => {
  const t = new G().in('x', 'f32[batch, 3, 5]')
    .node('Transpose', ['x'], 'r').node('Transpose', ['x'], 'p', { perm: at.ints(1, 0, 2) }).infer(['r', 'p']);
  assert.is(t.r, 'f32[5, 3, batch]');
  assert.is(t.p, 'f32[3, batch, 5]');
  for (const perm of [at.ints(0, 0, 1), at.ints(0, 1), at.ints(0, 1, 3)]) {
    const e = latheError(() => new G().in('x', 'f32[2, 3, 5]').node('Transpose', ['x'], 'y', { perm }, 'tp').infer(['y']));
    assert.is(e.kind, 'ShapeError');
    assert.is(e.where.node, 'tp');
    assert.match(e.message, /not a permutation/);
  }
});

test('Concat sums the axis, unifies the rest, and rejects a rank mismatch', () => {
  const t = new G().in('a', 'f32[batch, 3]').in('b', 'f32[?, 4]').in('c', 'f32[batch, seq]')
    .node('Concat', ['a', 'b'], 'ab', { axis: at.int(-1) })
    .node('Concat', ['a', 'c'], 'ac', { axis: at.int(1) })
    .node('Concat', ['a', 'a'], 'aa', { axis: at.int(0) }).infer(['ab', 'ac', 'aa']);
  assert.is(t.ab, 'f32[batch, 7]');
  assert.is(t.ac, 'f32[batch, ?]');
  assert.is(t.aa, 'f32[?, 3]');
  const e = latheError(() => new G().in('a', 'f32[2, 3]').in('b', 'f32[2, 3, 1]')
    .node('Concat', ['a', 'b'], 'y', { axis: at.int(0) }, 'cat').infer(['y']));
  assert.is(e.kind, 'ShapeError');
  assert.is(e.where.node, 'cat');
  assert.match(e.message, /different ranks/);
  assert.is(latheError(() => new G().in('a', 'f32[2, 3]').in('b', 'f32[2, 4]')
    .node('Concat', ['a', 'b'], 'y', { axis: at.int(0) }).infer(['y'])).kind, 'ShapeError');
});

test('Split: equal parts, sizes as attribute (opset 11) or operand (13), num_outputs (18)', () => {
  const eq = new G().in('x', 'f32[batch, 12]').node('Split', ['x'], ['a', 'b', 'c'], { axis: at.int(1) }).infer(['a']);
  assert.is(eq.a, 'f32[batch, 4]');
  assert.is(eq.c, 'f32[batch, 4]');
  const old = new G().in('x', 'f32[10, seq]').node('Split', ['x'], ['a', 'b'], { split: at.ints(3, 7) }).infer(['a'], 11);
  assert.is(old.a, 'f32[3, seq]');
  assert.is(old.b, 'f32[7, seq]');
  const op = new G().in('x', 'f32[10, seq]').i64('s', [4, 6]).node('Split', ['x', 's'], ['a', 'b']).infer(['a'], 13);
  assert.is(op.b, 'f32[6, seq]');
  const n = new G().in('x', 'f32[10]').node('Split', ['x'], ['a', 'b', 'c'], { num_outputs: at.int(3) }).infer(['a'], 18);
  assert.equal([n.a, n.b, n.c], ['f32[4]', 'f32[4]', 'f32[2]']);
  assert.is(latheError(() => new G().in('x', 'f32[10]').node('Split', ['x'], ['a', 'b', 'c']).infer(['a'])).kind, 'ShapeError');
  assert.is(latheError(() => new G().in('x', 'f32[10]').i64('s', [4, 5]).node('Split', ['x', 's'], ['a', 'b']).infer(['a'])).kind, 'ShapeError');
});

test('Pad: attribute form (opset 2) and operand form, with axes (opset 18)', () => {
  const old = new G().in('x', 'f32[batch, 3, 8]')
    .node('Pad', ['x'], 'y', { pads: at.ints(0, 1, 2, 0, 1, 2) }).infer(['y'], 2);
  assert.is(old.y, 'f32[batch, 5, 12]');
  const op = new G().in('x', 'f32[batch, 3, 8]').i64('p', [0, 0, -1, 0, 0, 3]).f32('v', [0], [])
    .node('Pad', ['x', 'p', 'v'], 'y', { mode: at.string('constant') }).infer(['y'], 13);
  assert.is(op.y, 'f32[batch, 3, 10]');
  const ax = new G().in('x', 'f32[batch, 3, 8]').i64('p', [1, 1]).i64('a', [-1])
    .node('Pad', ['x', 'p', null, 'a'], 'y', { mode: at.string('reflect') }).infer(['y'], 18);
  assert.is(ax.y, 'f32[batch, 3, 10]');
  const unk = new G().in('x', 'f32[batch, 3, 8]').in('p', 'i64[6]').node('Pad', ['x', 'p'], 'y').infer(['y'], 13);
  assert.is(unk.y, 'f32[?, ?, ?]');
  assert.is(latheError(() => new G().in('x', 'f32[2]').node('Pad', ['x'], 'y', { pads: at.ints(1, 1) }).infer(['y'], 13)).kind, 'ShapeError');
});

test('Resize by sizes vs by scales, opset 10 and 13 forms', () => {
  const sizes = new G().in('x', 'f32[batch, 3, 32, 32]').i64('sz', [1, 3, 64, 48])
    .node('Resize', ['x', null, null, 'sz'], 'y', { mode: at.string('linear') }).infer(['y'], 13);
  assert.is(sizes.y, 'f32[1, 3, 64, 48]');
  const scales = new G().in('x', 'f32[batch, 3, 32, 30]').f32('sc', [1, 1, 2, 0.5])
    .node('Resize', ['x', null, 'sc'], 'y').infer(['y'], 13);
  assert.is(scales.y, 'f32[batch, 3, 64, 15]');
  const empty = new G().in('x', 'f32[batch, 3, 32, 32]').f32('roi', []).f32('sc', []).i64('sz', [1, 3, 16, 16])
    .node('Resize', ['x', 'roi', 'sc', 'sz'], 'y').infer(['y'], 11);
  assert.is(empty.y, 'f32[1, 3, 16, 16]');
  const v10 = new G().in('x', 'f32[2, 3, 8, 8]').f32('sc', [1, 1, 1.5, 2])
    .node('Resize', ['x', 'sc'], 'y').infer(['y'], 10);
  assert.is(v10.y, 'f32[2, 3, 12, 16]');
  const axes = new G().in('x', 'f32[2, 3, 20, 10]').i64('sz', [10, 10])
    .node('Resize', ['x', null, null, 'sz'], 'y', { axes: at.ints(2, 3), keep_aspect_ratio_policy: at.string('not_larger') })
    .infer(['y'], 18);
  assert.is(axes.y, 'f32[2, 3, 10, 5]');
  const up = new G().in('x', 'f32[1, 2, 4, 4]').f32('sc', [1, 1, 2, 2]).node('Upsample', ['x', 'sc'], 'y').infer(['y'], 9);
  assert.is(up.y, 'f32[1, 2, 8, 8]');
});

test('Unsqueeze: axes attribute at opset 11, operand at 13; the wrong form fails', () => {
  const a = new G().in('x', 'f32[batch, 4]').node('Unsqueeze', ['x'], 'y', { axes: at.ints(0, -1) }).infer(['y'], 11);
  assert.is(a.y, 'f32[1, batch, 4, 1]');
  const b = new G().in('x', 'f32[batch, 4]').i64('ax', [1]).node('Unsqueeze', ['x', 'ax'], 'y').infer(['y'], 13);
  assert.is(b.y, 'f32[batch, 1, 4]');
  const e = latheError(() => new G().in('x', 'f32[4]').node('Unsqueeze', ['x'], 'y', { axes: at.ints(0) }, 'u').infer(['y'], 13));
  assert.is(e.where.node, 'u');
  assert.match(e.message, /became operand 1 at opset 13/);
  const sq = new G().in('x', 'f32[1, batch, 1, 4]').i64('ax', [2])
    .node('Squeeze', ['x', 'ax'], 'a').node('Squeeze', ['x'], 'b', {}).infer(['a', 'b'], 13);
  assert.is(sq.a, 'f32[1, batch, 4]');
  assert.is(sq.b, 'f32[*]');
  const st = new G().in('x', 'f32[1, 3, 1]').node('Squeeze', ['x'], 'y', { axes: at.ints(0) }).infer(['y'], 11);
  assert.is(st.y, 'f32[3, 1]');
  assert.is(latheError(() => new G().in('x', 'f32[2, 3]').node('Squeeze', ['x'], 'y', { axes: at.ints(0) }).infer(['y'], 11)).kind, 'ShapeError');
});

test('Flatten, DepthToSpace, SpaceToDepth, Tile', () => {
  const t = new G().in('x', 'f32[batch, 3, 4, 5]').in('d', 'f32[1, 8, 2, 3]').i64('r', [2, 1, 1, 3])
    .node('Flatten', ['x'], 'f1').node('Flatten', ['x'], 'f2', { axis: at.int(2) }).node('Flatten', ['x'], 'f0', { axis: at.int(0) })
    .node('DepthToSpace', ['d'], 'd2s', { blocksize: at.int(2) })
    .node('SpaceToDepth', ['d2s'], 's2d', { blocksize: at.int(2) })
    .node('Tile', ['x', 'r'], 'tl').infer(['f1']);
  assert.is(t.f1, 'f32[batch, 60]');
  assert.is(t.f2, 'f32[?, 20]');
  assert.is(t.f0, 'f32[1, ?]');
  assert.is(t.d2s, 'f32[1, 2, 4, 6]');
  assert.is(t.s2d, 'f32[1, 8, 2, 3]');
  assert.is(t.tl, 'f32[?, 3, 4, 15]');
});

test('Gather family and scatter', () => {
  const t = new G().in('x', 'f32[vocab, 768]').in('ids', 'i64[batch, seq]').in('ie', 'i64[batch, 5]')
    .in('d', 'f32[batch, 10]').in('nd', 'i64[4, 2]').in('m', 'f32[6, 7, 8]').in('u', 'f32[4, 8]')
    .node('Gather', ['x', 'ids'], 'emb')
    .node('Gather', ['m', 'nd'], 'g1', { axis: at.int(1) })
    .node('GatherElements', ['d', 'ie'], 'ge', { axis: at.int(1) })
    .node('GatherND', ['m', 'nd'], 'gnd')
    .node('ScatterND', ['m', 'nd', 'u'], 'snd')
    .infer(['emb']);
  assert.is(t.emb, 'f32[batch, seq, 768]');
  assert.is(t.g1, 'f32[6, 4, 2, 8]');
  assert.is(t.ge, 'f32[batch, 5]');
  assert.is(t.gnd, 'f32[4, 8]');
  assert.is(t.snd, 'f32[6, 7, 8]');
});

test.run();
