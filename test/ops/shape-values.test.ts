// Shape values through the chains real exports use: Shape → Gather → Unsqueeze → Concat → Reshape.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { at, G, latheError } from './shape-helpers.ts';

test('Shape → Gather → Unsqueeze → Concat → Reshape keeps batch and seq', () => {
  const g = new G()
    .in('x', 'f32[batch, seq, 768]')
    .i64('i0', [0], true).i64('i1', [1], true).i64('ax', [0]).i64('heads', [12]).i64('hd', [64])
    .node('Shape', ['x'], 's')
    .node('Gather', ['s', 'i0'], 'b', { axis: at.int(0) })
    .node('Gather', ['s', 'i1'], 'q', { axis: at.int(0) })
    .node('Unsqueeze', ['b', 'ax'], 'bu')
    .node('Unsqueeze', ['q', 'ax'], 'qu')
    .node('Concat', ['bu', 'qu', 'heads', 'hd'], 'shape', { axis: at.int(0) })
    .node('Reshape', ['x', 'shape'], 'y')
    .node('Transpose', ['y'], 't', { perm: at.ints(0, 2, 1, 3) });
  const t = g.infer(['t']);
  assert.is(t.s, 'i64[3]');
  assert.is(t.b, 'i64[]');
  assert.is(t.bu, 'i64[1]');
  assert.is(t.shape, 'i64[4]');
  assert.is(t.y, 'f32[batch, seq, 12, 64]');
  assert.is(t.t, 'f32[batch, 12, seq, 64]');
});

test('the same chain at opset 11 (Unsqueeze axes as an attribute) and with Cast/Mul on the way', () => {
  const g = new G()
    .in('x', 'f32[batch, seq, 12, 64]')
    .i64('i2', [2], true).i64('i3', [3], true).i64('st', [0]).i64('en', [2])
    .node('Shape', ['x'], 's')
    .node('Gather', ['s', 'i2'], 'h')
    .node('Gather', ['s', 'i3'], 'd')
    .node('Mul', ['h', 'd'], 'hd')
    .node('Cast', ['hd'], 'hd32', { to: at.int(6) })
    .node('Cast', ['hd32'], 'hd64', { to: at.int(7) })
    .node('Unsqueeze', ['hd64'], 'hdu', { axes: at.ints(0) })
    .node('Slice', ['s', 'st', 'en'], 's01')
    .node('Concat', ['s01', 'hdu'], 'shape', { axis: at.int(0) })
    .node('Reshape', ['x', 'shape'], 'y');
  const t = g.infer(['y'], 11);
  assert.is(t.y, 'f32[batch, seq, 768]');
});

test('Shape start/end (opset 15), Size, Range over a symbolic length, Reshape -1 with symbols', () => {
  const g = new G()
    .in('x', 'f32[batch, seq, 4, 8]')
    .i64('zero', [0], true).i64('one', [1], true).i64('m1', [-1, 32])
    .node('Shape', ['x'], 's', { start: at.int(1), end: at.int(-2) })
    .node('Shape', ['x'], 'tail', { start: at.int(-2) })
    .node('Size', ['x'], 'n')
    .node('Squeeze', ['s'], 'seqlen', {})
    .node('Range', ['zero', 'seqlen', 'one'], 'pos')
    .node('Reshape', ['x', 'm1'], 'flat')
    .node('ConstantOfShape', ['tail'], 'z', { value: { kind: 'tensor', value: { dtype: 'i32', shape: [1], data: { kind: 'bytes', bytes: new Uint8Array(4) } } } });
  const t = g.infer(['pos', 'flat', 'z', 'n']);
  assert.is(t.s, 'i64[1]');
  assert.is(t.n, 'i64[]');
  assert.is(t.pos, 'i64[seq]');
  assert.is(t.flat, 'f32[?, 32]');
  assert.is(t.z, 'i32[4, 8]');
});

test('Reshape: 0 copies, -1 divides out symbols and numbers, allowzero keeps 0', () => {
  const g = new G()
    .in('x', 'f32[batch, seq, 768]')
    .i64('a', [0, 0, -1, 64]).i64('b', [-1, 768]).i64('c', [0, -1])
    .node('Reshape', ['x', 'a'], 'ya')
    .node('Reshape', ['x', 'b'], 'yb')
    .node('Reshape', ['x', 'c'], 'yc');
  const t = g.infer(['ya', 'yb', 'yc']);
  assert.is(t.ya, 'f32[batch, seq, 12, 64]');
  assert.is(t.yb, 'f32[?, 768]');
  assert.is(t.yc, 'f32[batch, ?]');
  const z = new G().in('x', 'f32[0, 3]').i64('s', [0, 3])
    .node('Reshape', ['x', 's'], 'y', { allowzero: at.int(1) }).infer(['y']);
  assert.is(z.y, 'f32[0, 3]');
  const s = new G().in('x', 'f32[batch, seq, 4]').i64('s', [-1, 4]).i64('t', [0, -1])
    .node('Reshape', ['x', 't'], 'y0').node('Shape', ['y0'], 'sh')
    .node('Reshape', ['x', 's'], 'y1').infer(['y0', 'y1']);
  assert.is(s.y0, 'f32[batch, ?]');
  const q = new G().in('x', 'f32[batch, 4, 6]').i64('s', [-1, 6])
    .node('Reshape', ['x', 's'], 'y').infer(['y']);
  assert.is(q.y, 'f32[?, 6]');
  const r = new G().in('x', 'f32[batch, 24]').i64('s', [-1, 24])
    .node('Reshape', ['x', 's'], 'y').infer(['y']);
  assert.is(r.y, 'f32[batch, 24]');
});

test('Reshape of 6 elements to [4, -1] is a ShapeError naming the node', () => {
  const g = new G().in('x', 'f32[2, 3]').i64('s', [4, -1]).node('Reshape', ['x', 's'], 'y', {}, 'bad_reshape');
  const e = latheError(() => g.infer(['y']));
  assert.is(e.kind, 'ShapeError');
  assert.is(e.where.node, 'bad_reshape');
  assert.match(e.message, /cannot reshape \[2, 3\] to \[4, -1\]/);
  const f = new G().in('x', 'f32[2, 3]').i64('s', [4, 2]).node('Reshape', ['x', 's'], 'y');
  assert.is(latheError(() => f.infer(['y'])).kind, 'ShapeError');
});

test('Constant node values feed Expand, Tile and ConstantOfShape', () => {
  const g = new G()
    .in('x', 'f32[batch, 1, 8]')
    .node('Constant', [], 'reps', { value_ints: at.ints(1, 3, 1) })
    .node('Shape', ['x'], 's')
    .node('Constant', [], 'i', { value_int: at.int(0) })
    .node('Gather', ['s', 'i'], 'b')
    .node('Constant', [], 'rest', { value_ints: at.ints(5, 8) })
    .node('Unsqueeze', ['b'], 'bu', { axes: at.ints(0) })
    .node('Concat', ['bu', 'rest'], 'tgt', { axis: at.int(0) })
    .node('Expand', ['x', 'tgt'], 'e')
    .node('Tile', ['x', 'reps'], 't')
    .node('ConstantOfShape', ['tgt'], 'c');
  const t = g.infer(['e', 't', 'c'], 12);
  assert.is(t.reps, 'i64[3]');
  assert.is(t.e, 'f32[batch, 5, 8]');
  assert.is(t.t, 'f32[batch, 3, 8]');
  assert.is(t.c, 'f32[batch, 5, 8]');
});

test('Expand keeps the input dim where the target says 1 or is unknown', () => {
  const g = new G().in('x', 'f32[batch, 1, 8]').in('s', 'i64[3]').i64('ones', [1, 1, 1])
    .node('Expand', ['x', 's'], 'e').node('Expand', ['x', 'ones'], 'f');
  const t = g.infer(['e', 'f']);
  assert.is(t.e, 'f32[batch, ?, 8]');
  assert.is(t.f, 'f32[batch, 1, 8]');
});

test('ConstantOfShape and Where carry values (expanded LayerNorm, Expand with -1 → 1)', () => {
  const one = { kind: 'tensor', value: { dtype: 'i64', shape: [1], data: { kind: 'bytes', bytes: new Uint8Array(new BigInt64Array([1n]).buffer) } } } as const;
  const g = new G()
    .in('x', 'f32[batch, 1, 64]').in('m', 'f32[batch, seq]')
    .i64('two', [2]).i64('z', [0]).i64('tgt2', [-1, 7, 64]).bool('isneg', [true, false, false]).i64('ones', [1, 1, 1])
    .node('Shape', ['m'], 's')
    .node('Slice', ['s', 'z', 'two'], 'prefix')
    .node('ConstantOfShape', ['z'], 'empty', { value: one })
    .node('ConstantOfShape', ['two'], 'suffix', { value: one })
    .node('Concat', ['prefix', 'suffix'], 'tgt', { axis: at.int(0) })
    .node('Reshape', ['m', 'tgt'], 'y')
    .node('Where', ['isneg', 'ones', 'tgt2'], 'fixed')
    .node('Expand', ['x', 'fixed'], 'e');
  const t = g.infer(['y', 'e']);
  assert.is(t.suffix, 'i64[2]');
  assert.is(t.empty, 'i64[0]');
  assert.is(t.y, 'f32[batch, seq, 1, 1]');
  assert.is(t.e, 'f32[batch, 7, 64]');
});

test.run();
