// Plain elementwise ops: arithmetic, comparison, logic, and the unary math functions.
// Add/Sub/Mul/Div also propagate known integer contents, so shape arithmetic in exported graphs
// (Shape → Gather → Mul → Concat → Reshape) keeps its symbolic dims.
import type { DType } from '../dtype.ts';
import { FLOATS, NUMERIC } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import type { Dim } from '../types.ts';
import { exactly } from '../op.ts';
import { attr, binaryOps, expectDType, onnxOp, unaryOps } from './util.ts';

const ALL_NUMERIC: readonly DType[] = NUMERIC;
const SIGNED_NUMERIC: readonly DType[] = NUMERIC.filter((d) => !d.startsWith('u'));

// Opset 1–6 forms carried `broadcast`/`axis` (and opset 1 `consumed_inputs`, an in-place hint);
// they are accepted so old models import.
const LEGACY_BINARY = { broadcast: attr.int, axis: attr.int };
const CONSUMED = { consumed_inputs: attr.ints };

binaryOps(['Add', 'Sub', 'Mul', 'Div'], ALL_NUMERIC, undefined, { ...LEGACY_BINARY, ...CONSUMED }, valuesOf(arithmetic));
binaryOps(['And', 'Or', 'Xor'], ['bool'], 'bool', LEGACY_BINARY);
binaryOps(['Equal'], [...ALL_NUMERIC, 'bool', 'string'], 'bool', LEGACY_BINARY, valuesOf(equality));
binaryOps(['Greater', 'Less'], ALL_NUMERIC, 'bool', LEGACY_BINARY);
binaryOps(['GreaterOrEqual', 'LessOrEqual'], ALL_NUMERIC, 'bool');

unaryOps(['Not'], ['bool']);
unaryOps(['Abs'], ALL_NUMERIC, CONSUMED);
unaryOps(['Sign'], ALL_NUMERIC);
onnxOp('Neg', exactly(1), exactly(1), CONSUMED, (ctx) => [expectDType(ctx, 0, SIGNED_NUMERIC)], (ctx) =>
  ctx.values(0)?.map((d) => (typeof d === 'number' ? 0 - d : null)),
);
unaryOps(['Relu'], SIGNED_NUMERIC, CONSUMED);
unaryOps(['Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil'], FLOATS, CONSUMED);
unaryOps(
  ['Round', 'Erf', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Softsign'],
  FLOATS,
);

/**
 * Known integer contents of a binary op's result, combining the operands' element by element
 * (numpy broadcasting of 1-D lists).
 */
function valuesOf(combine: (op: string, x: Dim, y: Dim) => Dim) {
  return (ctx: InferContext): readonly Dim[] | undefined => {
    const a = ctx.values(0);
    const b = ctx.values(1);
    if (!a || !b) return undefined;
    const n = Math.max(a.length, b.length);
    if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) out.push(combine(ctx.node.op, a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!));
    return out;
  };
}

function arithmetic(op: string, x: Dim, y: Dim): Dim {
  if (typeof x === 'number' && typeof y === 'number') {
    switch (op) {
      case 'Add': return x + y;
      case 'Sub': return x - y;
      case 'Mul': return x * y;
      case 'Div': return y === 0 ? null : Math.trunc(x / y);
    }
    return null;
  }
  // A symbol times or plus the identity stays that symbol; anything else on a symbol is unknown.
  if ((op === 'Mul' || op === 'Div') && y === 1) return x;
  if (op === 'Mul' && x === 1) return y;
  if ((op === 'Add' || op === 'Sub') && y === 0) return x;
  if (op === 'Add' && x === 0) return y;
  return null;
}

/**
 * Equality of known contents as 1/0. PyTorch exports `expand(B, -1, -1)` as
 * Where(Equal(shape, -1), ones, shape): a symbol (a real size, never negative) is known to differ
 * from a negative number, and equals itself.
 */
function equality(_op: string, x: Dim, y: Dim): Dim {
  if (x === null || y === null) return null;
  if (typeof x === 'number' && typeof y === 'number') return x === y ? 1 : 0;
  if (x === y) return 1;
  if ((typeof x === 'number' && x < 0) || (typeof y === 'number' && y < 0)) return 0;
  return null;
}
