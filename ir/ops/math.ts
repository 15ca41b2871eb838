// Elementwise math beyond ir/ops/elementwise.ts: Pow, Mod, BitShift, the variadic Sum/Max/Min/
// Mean, IsInf/IsNaN, and CumSum.
import type { DType } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import { FLOATS, isFloat } from '../dtype.ts';
import { atLeast, exactly } from '../op.ts';
import type { Dim } from '../types.ts';
import { tensor } from '../types.ts';
import { attr, broadcastShapes, expectDType, onnxOp, sameDType } from './util.ts';
import { fmt, legacyBroadcast, NUMERIC_T } from './nn-util.ts';

const UINTS: readonly DType[] = ['u8', 'u16', 'u32', 'u64'];

const legacyAttrs = { broadcast: attr.int, axis: attr.int };

// Pow: base and exponent may have different types from opset 12; the result has the base's.
onnxOp('Pow', exactly(2), exactly(1), legacyAttrs, (ctx) => {
  const x = expectDType(ctx, 0, ctx.opset >= 12 ? ['i32', 'i64', ...FLOATS] : FLOATS);
  const y = expectDType(ctx, 1, ctx.opset >= 12 ? NUMERIC_T : FLOATS);
  if (ctx.opset < 12 && y.dtype !== x.dtype) ctx.fail(`base is ${x.dtype} but exponent is ${y.dtype}`);
  const shape = ctx.opset < 7 ? legacyBroadcast(ctx, x.shape, y.shape) : broadcastShapes(ctx, [x.shape, y.shape]);
  return [tensor(x.dtype, shape)];
});

onnxOp('Mod', exactly(2), exactly(1), { fmod: attr.int }, (ctx) => {
  const a = expectDType(ctx, 0, NUMERIC_T);
  sameDType(ctx, [0, 1]);
  if (isFloat(a.dtype) && ctx.int('fmod', 0) !== 1) ctx.fail(`fmod must be 1 for floating-point inputs (${a.dtype})`);
  return [tensor(a.dtype, broadcastShapes(ctx, [a.shape, ctx.tensor(1).shape]))];
});

onnxOp('BitShift', exactly(2), exactly(1), { direction: { kind: 'string', required: true } }, (ctx) => {
  const a = expectDType(ctx, 0, UINTS);
  sameDType(ctx, [0, 1]);
  const dir = ctx.string('direction');
  if (dir !== 'LEFT' && dir !== 'RIGHT') ctx.fail(`direction must be LEFT or RIGHT, got '${dir}'`);
  return [tensor(a.dtype, broadcastShapes(ctx, [a.shape, ctx.tensor(1).shape]))];
});

// IsInf/IsNaN: float in, bool out (the fp8 types were added at opset 20).
const F8: readonly DType[] = ['f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz'];
onnxOp('IsInf', exactly(1), exactly(1), { detect_negative: attr.int, detect_positive: attr.int }, (ctx) => {
  const x = expectDType(ctx, 0, [...FLOATS, ...F8]);
  return [tensor('bool', x.shape)];
});
onnxOp('IsNaN', exactly(1), exactly(1), {}, (ctx) => [tensor('bool', expectDType(ctx, 0, [...FLOATS, ...F8]).shape)]);

// Variadic reductions over operands: numpy broadcasting from opset 8, equal shapes before (a
// special case of broadcasting, so one rule serves both). `consumed_inputs` is opset 1's.
/**
 * Known contents of Max/Min over small integer operands (shape arithmetic such as Max(dim, 1)):
 * sizes compute; a symbol survives only against itself.
 */
function extremumValues(ctx: InferContext): readonly Dim[] | undefined {
  const lists: (readonly Dim[])[] = [];
  for (let i = 0; i < ctx.numInputs; i++) {
    const v = ctx.values(i);
    if (!v) return undefined;
    lists.push(v);
  }
  const n = Math.max(...lists.map((l) => l.length));
  if (lists.some((l) => l.length !== n && l.length !== 1)) return undefined;
  const pick = ctx.node.op === 'Max' ? Math.max : Math.min;
  return Array.from({ length: n }, (_, i) => {
    const xs = lists.map((l) => l[l.length === 1 ? 0 : i]!);
    if (xs.every((x) => typeof x === 'number')) return pick(...(xs as number[]));
    return xs.every((x) => x === xs[0]) ? xs[0]! : null;
  });
}

function variadic(name: string, allowed: readonly DType[]): void {
  const values = name === 'Max' || name === 'Min' ? extremumValues : undefined;
  onnxOp(name, atLeast(1), exactly(1), { consumed_inputs: attr.ints }, (ctx) => {
    const idx = Array.from({ length: ctx.numInputs }, (_, i) => i);
    for (const i of idx) expectDType(ctx, i, allowed);
    const dtype = sameDType(ctx, idx);
    const shapes = idx.map((i) => ctx.tensor(i).shape);
    if (ctx.opset < 8) {
      const first = shapes[0]!;
      for (const s of shapes) {
        if (first === null || s === null) continue;
        if (s.length !== first.length) ctx.fail(`operands must have equal shapes before opset 8: ${fmt(first)} vs ${fmt(s)}`);
      }
    }
    return [tensor(dtype, broadcastShapes(ctx, shapes))];
  }, values);
}
variadic('Sum', FLOATS);
variadic('Mean', FLOATS);
variadic('Max', NUMERIC_T);
variadic('Min', NUMERIC_T);

onnxOp('CumSum', exactly(2), exactly(1), { exclusive: attr.int, reverse: attr.int }, (ctx) => {
  const x = expectDType(ctx, 0, NUMERIC_T);
  const ax = expectDType(ctx, 1, ['i32', 'i64']);
  if (ax.shape !== null && ax.shape.length > 1) ctx.fail(`axis must be a scalar, got ${fmt(ax.shape)}`);
  const v = ctx.values(1);
  const a: Dim | undefined = v?.[0];
  if (typeof a === 'number' && x.shape !== null) {
    const r = x.shape.length;
    if (a < -r || a >= r) ctx.fail(`axis ${a} is out of range for rank ${r}`);
  }
  return [tensor(x.dtype, x.shape)];
});
