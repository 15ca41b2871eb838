// Plain elementwise ops: arithmetic, comparison, logic, and the unary math functions.
// Add/Sub/Mul/Div also propagate known integer contents, so shape arithmetic in exported graphs
// (Shape → Gather → Mul → Concat → Reshape) keeps its symbolic dims.
import type { DType } from '../dtype.ts';
import { FLOATS, NUMERIC } from '../dtype.ts';
import type { InferContext } from '../op.ts';
import type { Dim } from '../types.ts';
import { attr, binaryOps, unaryOps } from './util.ts';

const ALL_NUMERIC: readonly DType[] = NUMERIC;
const SIGNED_NUMERIC: readonly DType[] = NUMERIC.filter((d) => !d.startsWith('u'));

// Opset 1–6 forms carried `broadcast`/`axis` (and opset 1 `consumed_inputs`, an in-place hint);
// they are accepted so old models import.
const LEGACY_BINARY = { broadcast: attr.int, axis: attr.int };
const CONSUMED = { consumed_inputs: attr.ints };

binaryOps(['Add', 'Sub', 'Mul', 'Div'], ALL_NUMERIC, undefined, { ...LEGACY_BINARY, ...CONSUMED }, arithmeticValues);
binaryOps(['And', 'Or', 'Xor'], ['bool'], 'bool', LEGACY_BINARY);
binaryOps(['Equal'], [...ALL_NUMERIC, 'bool', 'string'], 'bool', LEGACY_BINARY);
binaryOps(['Greater', 'Less'], ALL_NUMERIC, 'bool', LEGACY_BINARY);
binaryOps(['GreaterOrEqual', 'LessOrEqual'], ALL_NUMERIC, 'bool');

unaryOps(['Not'], ['bool']);
unaryOps(['Abs'], ALL_NUMERIC, CONSUMED);
unaryOps(['Sign'], ALL_NUMERIC);
unaryOps(['Neg'], SIGNED_NUMERIC, CONSUMED);
unaryOps(['Relu'], SIGNED_NUMERIC, CONSUMED);
unaryOps(['Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil'], FLOATS, CONSUMED);
unaryOps(
  ['Round', 'Erf', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Softsign'],
  FLOATS,
);

/** Elementwise arithmetic on known integer contents (with numpy broadcasting of 1-D lists). */
function arithmeticValues(ctx: InferContext): readonly Dim[] | undefined {
  const a = ctx.values(0);
  const b = ctx.values(1);
  if (!a || !b) return undefined;
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  const op = ctx.node.op;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = b[b.length === 1 ? 0 : i]!;
    out.push(typeof x === 'number' && typeof y === 'number' ? applyInt(op, x, y) : symbolic(op, x, y));
  }
  return out;
}

function applyInt(op: string, x: number, y: number): number | null {
  switch (op) {
    case 'Add': return x + y;
    case 'Sub': return x - y;
    case 'Mul': return x * y;
    case 'Div': return y === 0 ? null : Math.trunc(x / y);
    default: return null;
  }
}

/** A symbol times/plus the identity stays that symbol; anything else on a symbol is unknown. */
function symbolic(op: string, x: Dim, y: Dim): Dim {
  if ((op === 'Mul' || op === 'Div') && y === 1) return x;
  if (op === 'Mul' && x === 1) return y;
  if ((op === 'Add' || op === 'Sub') && y === 0) return x;
  if (op === 'Add' && x === 0) return y;
  return null;
}
