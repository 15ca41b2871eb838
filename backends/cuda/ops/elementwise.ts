// Elementwise lowerings: a node, or a fused group of nodes (../../wgsl/fuse.ts's `wgsl.Fused`),
// becomes one kernel, one thread per result element (or per short vector of them). Operands are
// read with numpy broadcasting; the joint coalescing of every operand's strides keeps the index
// arithmetic (compile-time constants: shapes are static) as short as the broadcast pattern allows.
// When every operand is either the result's shape or a single element, each thread handles a
// vector of up to 16 bytes per operand with one aligned load (buffers are 256-byte aligned).
import { attrReader } from '../../../ir/attr-reader.ts';
import type { EwProgramOf, EwStepOf } from '../../shared/ew-program.ts';
import { ewNodeExternals } from '../../shared/ew-program.ts';
import type { DType } from '../../../ir/dtype.ts';
import { LATHE_DOMAIN, ONNX_DOMAIN } from '../../../ir/graph.ts';
import type { Node } from '../../../ir/graph.ts';
import type { TensorType } from '../../../ir/types.ts';
import { broadcastStrides, coalesce, numElements, stridesOf } from '../../wgsl/index-helper.ts';
import { FUSED_DOMAIN, FUSED_OP } from '../../wgsl/fuse.ts';
import type { CudaElem, CudaKernel } from '../kernel.ts';
import { blocksFor, C_TYPE, cudaElem, cudaKernel, ELEM_BYTES } from '../kernel.ts';
import type { Alias, CudaContext, StaticTensor } from '../lowering.ts';
import { defineCuda, defineOnnxCuda } from '../lowering.ts';
import type { CudaEwOp } from './ew-table.ts';
import { computeType, CUDA_EW_OPS, CUDA_LATHE_EW_OPS, dataOperands, isFloatType, ROUND } from './ew-table.ts';

/** One op applied in an elementwise program (../../shared/ew-program.ts). */
export type CudaEwStep = EwStepOf<CudaEwOp>;
/** An elementwise program: external operands (bound buffers), steps in order, the result. */
export type CudaEwProgram = EwProgramOf<CudaEwStep>;

export function cudaEwOpFor(node: Pick<Node, 'domain' | 'op'>): CudaEwOp | undefined {
  if (node.domain === LATHE_DOMAIN) return Object.hasOwn(CUDA_LATHE_EW_OPS, node.op) ? CUDA_LATHE_EW_OPS[node.op] : undefined;
  if (node.domain !== ONNX_DOMAIN && node.domain !== '') return undefined;
  return Object.hasOwn(CUDA_EW_OPS, node.op) ? CUDA_EW_OPS[node.op] : undefined;
}

/** Round a float compute value to f16/bf16 (identity for the other dtypes). */
function roundTo(v: string, d: DType, helper: (code: string) => void): string {
  if (d !== 'f16' && d !== 'bf16') return v;
  helper(ROUND[d]);
  return `lathe_round_${d}(${v})`;
}

/**
 * The C statements computing a program's steps from given operand expressions (`leaf`: an
 * external's name → an expression of its value in compute type, see ./ew-table.ts). Shared by
 * the elementwise kernel and, later, epilogues of matmul/reductions, which supply their own
 * leaves. The result is not rounded to f16/bf16 (its store converts it).
 */
export function emitCudaSteps(
  steps: readonly CudaEwStep[],
  leaf: ReadonlyMap<string, { expr: string; dtype: DType }>,
  helper: (code: string) => void,
  fail: (why: string) => never,
  prefix = 's',
): { code: string[]; result: string; dtype: DType } {
  const vals = new Map(leaf);
  const code: string[] = [];
  steps.forEach((s, k) => {
    const args = s.inputs.map((n) => (n === null ? undefined : vals.get(n)));
    if (args.some((a, i) => a === undefined && s.inputs[i] !== null)) throw new Error(`elementwise program: operand of ${s.node.name} is not available`);
    const T = computeType(s.outType) ?? fail(`${s.node.op} result ${s.outType} has no CUDA type`);
    for (const a of args) if (a && !computeType(a.dtype)) fail(`${s.node.op} operand ${a.dtype} has no CUDA type`);
    const first = args.find((a) => a !== undefined)?.dtype;
    if (s.op.floatOnly && first && !isFloatType(first)) fail(`${s.node.op} is defined on floats only, not ${first}`);
    const expr = s.op.expr(
      args.map((a) => a?.expr),
      { ...s.attrs, opset: s.opset, inTypes: args.map((a) => a?.dtype), outType: s.outType, helper, fail },
    );
    const last = k === steps.length - 1;
    // A saturating Cast to f16/bf16 (lathe_round_sat_*) and f16 Sum/Max/Min have rounded already.
    const rounded = last || wholeCall(expr, /^lathe_round_\w+\(/);
    const value = isFloatType(s.outType) ? (rounded ? expr : roundTo(expr, s.outType, helper)) : castTo(T, expr);
    const name = `${prefix}${k}`;
    code.push(`const ${T} ${name} = ${value};`);
    vals.set(s.output, { expr: name, dtype: s.outType });
  });
  const lastStep = steps[steps.length - 1]!;
  const r = vals.get(lastStep.output)!;
  return { code, result: r.expr, dtype: r.dtype };
}

/** Whether expr is one call `head...(...)` as a whole (not a call followed by more). */
function wholeCall(expr: string, head: RegExp): boolean {
  const m = head.exec(expr);
  if (!m || m.index !== 0) return false;
  let depth = 0;
  for (let i = m[0].length - 1; i < expr.length; i++) {
    if (expr[i] === '(') depth++;
    else if (expr[i] === ')' && --depth === 0) return i === expr.length - 1;
  }
  return false;
}

/** `static_cast<T>(expr)`, unless expr is that cast already. */
function castTo(T: string, expr: string): string {
  return wholeCall(expr, new RegExp(`^static_cast<${T}>\\(`)) ? expr : `static_cast<${T}>(${expr})`;
}

/** A stored element as its compute value, and back. */
function loadAs(v: string, elem: CudaElem): string {
  if (elem === 'f16') return `__half2float(${v})`;
  if (elem === 'bf16') return `__bfloat162float(${v})`;
  if (elem === 'bool') return `(${v} != 0)`;
  return v;
}
function storeAs(v: string, elem: CudaElem): string {
  if (elem === 'f16') return `__float2half_rn(${v})`;
  if (elem === 'bf16') return `__float2bfloat16_rn(${v})`;
  if (elem === 'bool') return `static_cast<uint8_t>(${v})`;
  return v;
}

const VEC_HELPER = `// N elements of T loaded or stored as one aligned access (up to 16 bytes).
template <class T, int N> struct alignas(sizeof(T) * N) lathe_vec { T v[N]; };`;

const THREADS = 256;

type Mode = 'same' | 'scalar' | 'view';

/** The kernel computing a program: one thread per result element, or per vector of V of them. */
export function cudaEwKernel(ctx: CudaContext, prog: CudaEwProgram, what: string): CudaKernel[] {
  const out = prog.result;
  const n = numElements(out.shape);
  if (n === 0) return [];
  const elemOf = (t: StaticTensor) => cudaElem(t.dtype) ?? ctx.unsupported(`${t.dtype} has no CUDA storage type`);
  const inElems = prog.externals.map(elemOf);
  const outElem = elemOf(out);
  // Every external read over the result's index space; merge dims all of them walk alike.
  const views = [stridesOf(out.shape), ...prog.externals.map((t) => broadcastStrides(t.shape, out.shape))];
  const c = coalesce(out.shape, views);
  const dense = c.strides[0]!;
  const modes: Mode[] = prog.externals.map((_, i) => {
    const s = c.strides[i + 1]!;
    if (s.every((x) => x === 0)) return 'scalar';
    return s.every((x, d) => x === dense[d]) ? 'same' : 'view';
  });
  // Vector width: 16 bytes of the widest streamed element, at most 8 lanes, dividing n.
  let vec = 1;
  if (modes.every((m) => m !== 'view')) {
    const widest = Math.max(ELEM_BYTES[outElem], ...inElems.filter((_, i) => modes[i] === 'same').map((e) => ELEM_BYTES[e]));
    vec = Math.min(8, 16 / widest);
    while (vec > 1 && n % vec !== 0) vec /= 2;
  }
  const helpers = new Set<string>();
  const fail = (why: string): never => ctx.unsupported(why);

  const offset = (j: number): string => {
    const st = c.strides[j + 1]!;
    const terms: string[] = [];
    let inner = 1;
    const parts: { dim: number; div: number; stride: number }[] = [];
    for (let d = c.shape.length - 1; d >= 0; d--) {
      parts.unshift({ dim: c.shape[d]!, div: inner, stride: st[d]! });
      inner *= c.shape[d]!;
    }
    parts.forEach((p, d) => {
      if (p.stride === 0) return;
      let idx = p.div === 1 ? 'i' : `i / ${p.div}u`;
      if (d > 0) idx = `${idx} % ${p.dim}u`;
      terms.push(p.stride === 1 ? `(${idx})` : `(${idx}) * ${p.stride}u`);
    });
    return terms.join(' + ') || '0';
  };

  const leafNames = prog.externals.map((_, j) => `x${j}`);
  const leaf = new Map(prog.externals.map((t, j) => [t.name, { expr: leafNames[j]!, dtype: t.dtype }] as const));
  const steps = emitCudaSteps(prog.steps, leaf, (h) => helpers.add(h), fail);
  const ctOf = (t: StaticTensor) => computeType(t.dtype) ?? fail(`${t.dtype} has no CUDA type`);
  const body: string[] = [];
  const count = n / vec;
  body.push(`  const unsigned i = blockIdx.x * ${THREADS}u + threadIdx.x;`, `  if (i >= ${count}u) return;`);
  if (vec === 1) {
    prog.externals.forEach((t, j) => {
      const at = modes[j] === 'scalar' ? '0' : modes[j] === 'same' ? 'i' : offset(j);
      body.push(`  const ${ctOf(t)} ${leafNames[j]} = ${loadAs(`in${j}[${at}]`, inElems[j]!)};`);
    });
    body.push(...steps.code.map((l) => `  ${l}`), `  out[i] = ${storeAs(steps.result, outElem)};`);
  } else {
    helpers.add(VEC_HELPER);
    const vt = (e: CudaElem) => `lathe_vec<${C_TYPE[e]}, ${vec}>`;
    prog.externals.forEach((t, j) => {
      if (modes[j] === 'scalar') body.push(`  const ${ctOf(t)} ${leafNames[j]} = ${loadAs(`in${j}[0]`, inElems[j]!)};`);
      else body.push(`  const ${vt(inElems[j]!)} v${j} = reinterpret_cast<const ${vt(inElems[j]!)}*>(in${j})[i];`);
    });
    body.push(`  ${vt(outElem)} r;`, `  for (int k = 0; k < ${vec}; ++k) {`);
    prog.externals.forEach((t, j) => {
      if (modes[j] === 'same') body.push(`    const ${ctOf(t)} ${leafNames[j]} = ${loadAs(`v${j}.v[k]`, inElems[j]!)};`);
    });
    body.push(...steps.code.map((l) => `    ${l}`), `    r.v[k] = ${storeAs(steps.result, outElem)};`, '  }');
    body.push(`  reinterpret_cast<${vt(outElem)}*>(out)[i] = r;`);
  }
  const bindings = [
    ...prog.externals.map((t, j) => ({ value: t.name, access: 'read' as const, elem: inElems[j]!, param: `in${j}` })),
    { value: out.name, access: 'read_write' as const, elem: outElem, param: 'out' },
  ];
  return [
    cudaKernel({
      name: ctx.kernelName(what),
      node: ctx.node.name,
      op: ctx.node.op,
      bindings,
      helpers: [...helpers],
      body: body.join('\n'),
      grid: blocksFor(count, THREADS),
      block: THREADS,
    }),
  ];
}

/** A single node as a one-step program. */
function lowerNode(ctx: CudaContext): CudaKernel[] | Alias {
  const op = cudaEwOpFor(ctx.node) ?? ctx.unsupported(`${ctx.node.op} is not an elementwise op`);
  const out = ctx.output(0)!;
  const data = dataOperands(ctx.node.op, ctx.node.inputs.length);
  const externals = ewNodeExternals(ctx, data);
  const ins = ctx.node.inputs.map((name, i) => (data.includes(i) && name ? name : null));
  const step: CudaEwStep = { node: ctx.node, op, inputs: ins, output: out.name, outType: out.dtype, attrs: ctx, opset: ctx.opset };
  return cudaEwKernel(ctx, { externals, steps: [step], result: out }, ctx.node.op.toLowerCase());
}

defineOnnxCuda(
  Object.keys(CUDA_EW_OPS).filter((k) => k !== 'Cast' && k !== 'CastLike'),
  lowerNode,
);
// A cast to the same dtype is the operand's bytes.
defineOnnxCuda(['Cast', 'CastLike'], (ctx) => (ctx.input(0)!.dtype === ctx.output(0)!.dtype ? { alias: [{ output: 0, input: 0 }] } : lowerNode(ctx)));
for (const op of Object.keys(CUDA_LATHE_EW_OPS)) defineCuda(LATHE_DOMAIN, op, lowerNode);

/** `wgsl.Fused` (../../wgsl/fuse.ts): the body's members as the steps of one kernel. */
function lowerFused(ctx: CudaContext): CudaKernel[] {
  const a = ctx.attr('body');
  if (!a || a.kind !== 'graph') ctx.unsupported('wgsl.Fused without a body');
  const body = a.value;
  const opset = ctx.int('opset', 17);
  const externals: StaticTensor[] = ctx.node.inputs.map((_, i) => ctx.input(i)!);
  const steps: CudaEwStep[] = body.nodes.map((m) => {
    const op = cudaEwOpFor(m) ?? ctx.unsupported(`fused member ${m.name} (${m.op}) has no CUDA elementwise lowering`);
    const data = dataOperands(m.op, m.inputs.length);
    return {
      node: m,
      op,
      inputs: m.inputs.map((name, i) => (data.includes(i) && name ? name : null)),
      output: m.outputs[0]!.name,
      outType: (m.outputs[0]!.type as TensorType).dtype,
      attrs: attrReader(m),
      opset,
    };
  });
  const what = `fused_${body.nodes.map((m) => m.op.toLowerCase()).join('_')}`.slice(0, 80);
  return cudaEwKernel(ctx, { externals, steps, result: ctx.output(0)! }, what);
}

defineCuda(FUSED_DOMAIN, FUSED_OP, lowerFused);
