// Sequence, optional and miscellaneous ops: casts, constants, generators, data-dependent dims.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Attr } from '../../ir/graph.ts';
import { tensor } from '../../ir/types.ts';
import { at, G, latheError } from './shape-helpers.ts';

test('sequences: construct, insert, at, length, concat and split', () => {
  const t = new G().in('a', 'f32[batch, 3]').in('b', 'f32[batch, 5]').i64('p', [0], true)
    .node('SequenceConstruct', ['a', 'b'], 'sq')
    .node('SequenceEmpty', [], 'e', { dtype: at.int(7) })
    .node('SequenceInsert', ['sq', 'a', 'p'], 'sq2')
    .node('SequenceAt', ['sq2', 'p'], 'x')
    .node('SequenceLength', ['sq2'], 'n')
    .node('SequenceErase', ['sq2'], 'sq3')
    .node('ConcatFromSequence', ['sq3'], 'cat', { axis: at.int(1) })
    .node('ConcatFromSequence', ['sq3'], 'stk', { axis: at.int(0), new_axis: at.int(1) })
    .node('SplitToSequence', ['a'], 'parts', { axis: at.int(1), keepdims: at.int(0) })
    .infer(['x']);
  assert.is(t.sq, 'seq<f32[batch, ?]>');
  assert.is(t.e, 'seq<i64[*]>');
  assert.is(t.x, 'f32[batch, ?]');
  assert.is(t.n, 'i64[]');
  assert.is(t.cat, 'f32[batch, ?]');
  assert.is(t.stk, 'f32[?, batch, ?]');
  assert.is(t.parts, 'seq<f32[batch]>');
  assert.is(latheError(() => new G().in('a', 'f32[2]').in('b', 'i64[2]').node('SequenceConstruct', ['a', 'b'], 's').infer(['s'])).kind, 'ShapeError');
});

test('SequenceMap and optionals', () => {
  const body = new G('body').in('x', 'f32[*]').node('Shape', ['x'], 's').graph(['s']);
  const t = new G().in('a', 'f32[2, 3]')
    .node('SequenceConstruct', ['a', 'a'], 'sq')
    .node('SequenceMap', ['sq'], 'shapes', { body: at.graph(body) })
    .node('Optional', ['a'], 'o')
    .node('OptionalHasElement', ['o'], 'has')
    .node('OptionalGetElement', ['o'], 'back')
    .node('Optional', [], 'none', { type: { kind: 'type', value: tensor('i64', [4]) } as Attr })
    .infer(['shapes'], 18);
  assert.is(t.shapes, 'seq<i64[2]>');
  assert.is(t.o, 'opt<f32[2, 3]>');
  assert.is(t.has, 'bool[]');
  assert.is(t.back, 'f32[2, 3]');
  assert.is(t.none, 'opt<i64[4]>');
});

test('Cast, CastLike, Constant and the dtype-code errors', () => {
  const t = new G().in('x', 'f32[batch, 3]').in('h', 'f16[1]')
    .node('Cast', ['x'], 'c', { to: at.int(10) })
    .node('CastLike', ['x', 'h'], 'cl')
    .node('Constant', [], 'k', { value_floats: at.floats(1, 2, 3) })
    .node('Constant', [], 'kt', { value: { kind: 'tensor', value: { dtype: 'i32', shape: [2, 2], data: { kind: 'bytes', bytes: new Uint8Array(16) } } } })
    .infer(['c']);
  assert.is(t.c, 'f16[batch, 3]');
  assert.is(t.cl, 'f16[batch, 3]');
  assert.is(t.k, 'f32[3]');
  assert.is(t.kt, 'i32[2, 2]');
  const old = new G().in('x', 'f32[2]').node('Cast', ['x'], 'c', { to: at.string('INT64') }).infer(['c'], 5);
  assert.is(old.c, 'i64[2]');
  const e = latheError(() => new G().in('x', 'f32[2]').node('Cast', ['x'], 'c', { to: at.int(14) }).infer(['c']));
  assert.match(e.message, /COMPLEX64/);
  assert.is(latheError(() => new G().node('Constant', [], 'k', {}).infer(['k'])).kind, 'ShapeError');
  assert.is(latheError(() => new G().node('Constant', [], 'k', { bogus: at.int(1) }).infer(['k'])).kind, 'VerifyError');
});

test('data-dependent dims get fresh symbols', () => {
  const t = new G().in('x', 'f32[batch, 4]').in('m', 'bool[4]').in('b', 'f32[1, 100, 4]').in('s', 'f32[1, 1, 100]')
    .node('NonZero', ['x'], 'nz')
    .node('Compress', ['x', 'm'], 'cp', { axis: at.int(1) })
    .node('Unique', ['x'], ['u', 'ui', 'uinv', 'uc'])
    .node('NonMaxSuppression', ['b', 's'], 'sel')
    .infer(['nz']);
  assert.match(t.nz!, /^i64\[2, nonzero_\d+\]$/);
  assert.match(t.cp!, /^f32\[batch, compress_\d+\]$/);
  assert.match(t.u!, /^f32\[unique_\d+\]$/);
  assert.is(t.uinv, 'i64[?]');
  assert.match(t.sel!, /^i64\[selected_\d+, 3\]$/);
});

test('Range, OneHot, Where, EyeLike, Trilu, RoiAlign, GridSample, TfIdfVectorizer', () => {
  const t = new G().in('i', 'i64[batch, seq]').in('c', 'bool[batch, 1, seq]').in('x', 'f32[batch, 8, seq]')
    .in('img', 'f32[n, 3, 32, 32]').in('rois', 'f32[r, 4]').in('bi', 'i64[r]').in('grid', 'f32[n, 7, 9, 2]')
    .in('toks', 'i64[batch, 20]').in('sq', 'f32[5, 5]')
    .i64('d', [10], true).f32('onoff', [0, 1]).f32('s', [0], []).f32('l', [2.5], []).f32('st', [0.5], [])
    .node('Range', ['s', 'l', 'st'], 'r')
    .node('OneHot', ['i', 'd', 'onoff'], 'oh', { axis: at.int(1) })
    .node('Where', ['c', 'x', 's'], 'w')
    .node('EyeLike', ['sq'], 'eye', { dtype: at.int(7) })
    .node('Trilu', ['x'], 'tri', { upper: at.int(0) })
    .node('RoiAlign', ['img', 'rois', 'bi'], 'ra', { output_height: at.int(7), output_width: at.int(7) })
    .node('GridSample', ['img', 'grid'], 'gs')
    .node('TfIdfVectorizer', ['toks'], 'tf', {
      mode: at.string('TF'), min_gram_length: at.int(1), max_gram_length: at.int(1), max_skip_count: at.int(0),
      ngram_counts: at.ints(0), ngram_indexes: at.ints(0, 1, 2), pool_int64s: at.ints(4, 5, 6),
    })
    .infer(['r']);
  assert.is(t.r, 'f32[5]');
  assert.is(t.oh, 'f32[batch, 10, seq]');
  assert.is(t.w, 'f32[batch, 8, seq]');
  assert.is(t.eye, 'i64[5, 5]');
  assert.is(t.tri, 'f32[batch, 8, seq]');
  assert.is(t.ra, 'f32[r, 3, 7, 7]');
  assert.is(t.gs, 'f32[n, 3, 7, 9]');
  assert.is(t.tf, 'f32[batch, 3]');
  assert.is(latheError(() => new G().in('x', 'f32[2]').node('EyeLike', ['x'], 'e').infer(['e'])).kind, 'ShapeError');
});

test('string ops, ImageDecoder and AffineGrid', () => {
  const t = new G().in('s', 'string[batch, 3]').in('u', 'string[3]').in('img', 'u8[n]').in('th', 'f32[b, 2, 3]')
    .i64('size', [2, 3, 16, 24])
    .node('StringConcat', ['s', 'u'], 'c')
    .node('RegexFullMatch', ['s'], 'm', { pattern: at.string('a.*') })
    .node('StringSplit', ['u'], ['parts', 'counts'], { delimiter: at.string(' ') })
    .node('ImageDecoder', ['img'], 'rgb')
    .node('AffineGrid', ['th', 'size'], 'grid')
    .infer(['c']);
  assert.is(t.c, 'string[batch, 3]');
  assert.is(t.m, 'bool[batch, 3]');
  assert.match(t.parts!, /^string\[3, pieces_\d+\]$/);
  assert.is(t.counts, 'i64[3]');
  assert.match(t.rgb!, /^u8\[height_\d+, width_\d+, 3\]$/);
  assert.is(t.grid, 'f32[b, 16, 24, 2]');
});

test.run();
