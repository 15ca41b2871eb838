// Elementwise lowerings: a node (or a fused group of nodes, see ../fuse.ts) becomes one kernel,
// one thread per result element. Operands are read through the index helper with numpy
// broadcasting; the joint coalescing of all operands' strides keeps the rank (the only
// compile-time part of the index math) as small as the broadcast pattern allows.
import { attrReader } from '../../../ir/attr-reader.ts';
import type { EwProgramOf, EwStepOf } from '../../shared/ew-program.ts';
import { ewNodeExternals } from '../../shared/ew-program.ts';
import type { DType } from '../../../ir/dtype.ts';
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import type { Node } from '../../../ir/graph.ts';
import { broadcastStrides, coalesce, stridesOf, IndexSpace, numElements, Operand } from '../index-helper.ts';
import type { Kernel, KernelUniform } from '../kernel.ts';
import { storageElem } from '../kernel.ts';
import type { Alias, LowerContext, StaticTensor } from '../lowering.ts';
import { defineOnnxWgsl, defineWgsl } from '../lowering.ts';
import { buildKernel, elementDispatch, threadIndex } from '../template.ts';
import type { BoundVar } from '../template.ts';
import type { CType, EwOp } from './ew-table.ts';
import { ctypeOf, dataOperands, EW_OPS, LATHE_EW_OPS } from './ew-table.ts';

/** One op applied in an elementwise program (../../shared/ew-program.ts). */
export type EwStep = EwStepOf<EwOp>;
/** An elementwise program: external operands (bound buffers), steps in order, the result. */
export type EwProgram = EwProgramOf<EwStep>;

export function ewOpFor(node: Pick<Node, 'domain' | 'op'>): EwOp | undefined {
  if (node.domain === LATHE_DOMAIN) return LATHE_EW_OPS[node.op];
  if (node.domain !== 'ai.onnx' && node.domain !== '') return undefined;
  return Object.hasOwn(EW_OPS, node.op) ? EW_OPS[node.op] : undefined;
}

/**
 * The WGSL statements computing a program's steps from given operand expressions (`leaf`: an
 * external's name → a WGSL expression of its value in compute type). Shared by the elementwise
 * kernel and, later, epilogues of matmul/reductions, which supply their own leaves.
 */
export function emitSteps(
  steps: readonly EwStep[],
  leaf: ReadonlyMap<string, { expr: string; dtype: DType }>,
  param: (v: number) => string,
  helper: (code: string) => void,
): { code: string[]; result: string } {
  const vals = new Map(leaf);
  const code: string[] = [];
  steps.forEach((s, k) => {
    const args = s.inputs.map((n) => (n === null ? undefined : vals.get(n)));
    if (args.some((a, i) => a === undefined && s.inputs[i] !== null)) throw new Error(`elementwise program: operand of ${s.node.name} is not available`);
    const expr = s.op.expr(
      args.map((a) => a?.expr),
      { ...s.attrs, opset: s.opset, inTypes: args.map((a) => a?.dtype), outType: s.outType, param, helper },
    );
    const name = `s${k}`;
    code.push(`  let ${name}: ${ctypeOf(s.outType)} = ${roundTo(expr, s.outType, helper)};`);
    vals.set(s.output, { expr: name, dtype: s.outType });
  });
  const last = steps[steps.length - 1]!;
  return { code, result: vals.get(last.output)!.expr };
}

// f16/bf16 results are rounded to their type after each op (as the interpreter does), whether
// the device stores them as f16 or, lacking shader-f16 (and always for bf16), as f32.
const ROUND_F16 = 'fn ew_round_f16(x: f32) -> f32 { return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x; }';
const ROUND_BF16 = `fn ew_round_bf16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return x; }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`;
function roundTo(expr: string, dtype: DType, helper: (code: string) => void): string {
  if (dtype === 'f16') {
    helper(ROUND_F16);
    return `ew_round_f16(${expr})`;
  }
  if (dtype === 'bf16') {
    helper(ROUND_BF16);
    return `ew_round_bf16(${expr})`;
  }
  return expr;
}

/** Convert a stored element to its compute type, and back. */
const load = (v: string, elem: string, ct: CType) => (elem === 'f16' ? `${ct}(${v})` : v);
const store = (v: string, elem: string) => (elem === 'f16' ? `f16(${v})` : v);

export function ewKernel(ctx: LowerContext, prog: EwProgram, what: string): Kernel[] {
  const out = prog.result;
  const n = numElements(out.shape);
  if (n === 0) return [];
  const elemOf = (t: StaticTensor) => storageElem(t.dtype, ctx.caps.f16) ?? ctx.unsupported(`${t.dtype} has no WGSL storage type`);
  // Every external read over the result's index space; merge dims all of them walk alike.
  const views = [stridesOf(out.shape), ...prog.externals.map((t) => broadcastStrides(t.shape, out.shape))];
  const c = coalesce(out.shape, views);
  const space = new IndexSpace('o', c.shape);
  const operands = prog.externals.map((t, i) => new Operand(`in${i}`, space, c.strides[i + 1]!));
  const uniforms: KernelUniform[] = [{ name: 'n', type: 'u32', value: n }];
  const needIdx = operands.some((o) => o.mode === 'view');
  if (needIdx) uniforms.push(...space.uniforms);
  operands.forEach((o) => uniforms.push(...o.uniforms));
  const helpers: string[] = [];
  if (needIdx) helpers.push(space.helper);
  operands.forEach((o) => o.helper && helpers.push(o.helper));
  const helperSet = new Set<string>();
  const params: number[] = [];
  const param = (v: number) => {
    params.push(v);
    return `u.p${params.length - 1}`;
  };
  const vars: BoundVar[] = prog.externals.map((t, i) => ({ name: `in${i}`, binding: { value: t.name, access: 'read', elem: elemOf(t) } }));
  const outElem = elemOf(out);
  vars.push({ name: 'out0', binding: { value: out.name, access: 'read_write', elem: outElem } });
  const leaf = new Map(
    prog.externals.map((t, i) => [t.name, { expr: load(`in${i}[${operands[i]!.offset('flat', 'idx')}]`, vars[i]!.binding.elem, ctypeOf(t.dtype)), dtype: t.dtype }] as const),
  );
  const { code, result } = emitSteps(prog.steps, leaf, param, (h) => helperSet.add(h));
  params.forEach((v, i) => uniforms.push({ name: `p${i}`, type: 'f32', value: v }));
  const wg = 64;
  return [
    buildKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      key: `ew/r${space.rank}/${operands.map((o) => o.mode).join(',')}`,
      vars,
      uniforms,
      workgroupSize: wg,
      helpers: [...helpers, ...helperSet],
      body: [
        `  let flat = ${threadIndex(wg)};`,
        '  if (flat >= u.n) { return; }',
        needIdx ? '  let idx = o_indices(flat);' : '',
        ...code,
        `  out0[flat] = ${store(result, outElem)};`,
      ]
        .filter(Boolean)
        .join('\n'),
      dispatch: elementDispatch(n, wg, ctx.caps),
    }),
  ];
}

/** A single node as a one-step program. */
function lowerNode(ctx: LowerContext): Kernel[] | Alias {
  const op = ewOpFor(ctx.node)!;
  const out = ctx.output(0)!;
  const data = dataOperands(ctx.node.op, ctx.node.inputs.length);
  const externals = ewNodeExternals(ctx, data);
  const ins = ctx.node.inputs.map((name, i) => (data.includes(i) ? name : null));
  const inTypes = ins.map((_, i) => ctx.input(i)?.dtype);
  if (op.floatOnly && inTypes[0] && ctypeOf(inTypes[0]) !== 'f32') ctx.unsupported(`${ctx.node.op} on ${inTypes[0]} has no WGSL lowering`);
  const step: EwStep = { node: ctx.node, op, inputs: ins, output: out.name, outType: out.dtype, attrs: ctx, opset: ctx.opset };
  return ewKernel(ctx, { externals, steps: [step], result: out }, ctx.node.op.toLowerCase());
}

/** Casts that leave the stored bits as they are (i64 is held as i32 on the device). */
function castIsAlias(from: DType, to: DType): boolean {
  if (from === to) return true;
  const i32like: DType[] = ['i32', 'i64'];
  return i32like.includes(to) && [...i32like, 'bool', 'i8', 'i16', 'u8'].includes(from);
}

defineOnnxWgsl(
  Object.keys(EW_OPS).filter((k) => k !== 'Cast' && k !== 'CastLike'),
  lowerNode,
);
defineOnnxWgsl(['Cast', 'CastLike'], (ctx) => {
  if (castIsAlias(ctx.input(0)!.dtype, ctx.output(0)!.dtype)) return { alias: [{ output: 0, input: 0 }] };
  return lowerNode(ctx);
});
for (const op of Object.keys(LATHE_EW_OPS)) defineWgsl(LATHE_DOMAIN, op, lowerNode);

export { attrReader };
