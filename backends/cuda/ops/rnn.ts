// The recurrent layers RNN, GRU and LSTM as one kernel each: one block per (direction, batch
// row) walks the sequence in order, its threads sharing the hidden units. Each step computes the
// gates of every unit (W·x + Wb + R·h + Rb) and the new state, then, after a barrier, publishes
// it; the state (h, c, the new h, GRU's z and r⊙h) lives in shared memory. Layout 0 (time-major)
// and 1 (batch-first), forward / reverse / bidirectional, sequence_lens (steps past a row's length
// leave zeros in Y and keep the state), initial states, peepholes, linear_before_reset,
// input_forget, clip and the activation list with its alpha/beta values are read as the
// interpreter (ir/interp/ops/rnn.ts) reads them. Float storage computes in float, f64 in double.
import type { ActivationParam } from '../../../ir/interp/ops/rnn.ts';
import { recurrentActivations } from '../../../ir/interp/ops/rnn.ts';
import type { CudaBinding } from '../kernel.ts';
import { cudaKernel } from '../kernel.ts';
import type { CudaContext, StaticTensor } from '../lowering.ts';
import type { CellSpec } from '../../shared/rnn-plan.ts';
import { CELLS, recurrentGeometry, recurrentOperands } from '../../shared/rnn-plan.ts';
import { defineOnnxCuda } from '../lowering.ts';
import { elemOf, literal, readBinding, store, u, writeBinding } from './index-util.ts';

type Acc = 'float' | 'double';

/** Loads of every storage element as its compute type, the typed math, and the dot product. */
function helpers(acc: Acc): string[] {
  const fl = acc === 'float';
  const [exp, tanh, log1p, fabs] = fl ? ['expf', 'tanhf', 'log1pf', 'fabsf'] : ['exp', 'tanh', 'log1p', 'fabs'];
  const one = fl ? '1.0f' : '1.0';
  const zero = fl ? '0.0f' : '0.0';
  return [
    `__device__ __forceinline__ ${acc} lathe_rnn_ld_${acc}(float v) { return (${acc})v; }
__device__ __forceinline__ ${acc} lathe_rnn_ld_${acc}(double v) { return (${acc})v; }
__device__ __forceinline__ ${acc} lathe_rnn_ld_${acc}(__half v) { return (${acc})__half2float(v); }
__device__ __forceinline__ ${acc} lathe_rnn_ld_${acc}(__nv_bfloat16 v) { return (${acc})__bfloat162float(v); }`,
    // a[0..n) · b[0..n) in the compute type.
    `template <typename T, typename U>
__device__ __forceinline__ ${acc} lathe_rnn_dot_${acc}(const T* a, const U* b, unsigned n) {
  ${acc} s = ${zero};
  // Unrolled (n is a constant once inlined), the gate dots spill at sm_80.
#ifdef __CUDA_ARCH__
#pragma unroll 1
#endif
  for (unsigned i = 0; i < n; ++i) s += lathe_rnn_ld_${acc}(a[i]) * lathe_rnn_ld_${acc}(b[i]);
  return s;
}`,
    `__device__ __forceinline__ ${acc} lathe_rnn_sigmoid_${acc}(${acc} x) {
  if (x >= ${zero}) return ${one} / (${one} + ${exp}(-x));
  const ${acc} e = ${exp}(x);
  return e / (${one} + e);
}
__device__ __forceinline__ ${acc} lathe_rnn_tanh_${acc}(${acc} x) { return ${tanh}(x); }
__device__ __forceinline__ ${acc} lathe_rnn_softplus_${acc}(${acc} x) { return x > ${zero} ? x + ${log1p}(${exp}(-x)) : ${log1p}(${exp}(x)); }
__device__ __forceinline__ ${acc} lathe_rnn_softsign_${acc}(${acc} x) { return x / (${one} + ${fabs}(x)); }`,
  ];
}

/** The C expression of an activation applied to variable `x`, alpha/beta taken in the interpreter's order. */
function activationExpr(ctx: CudaContext, acc: Acc, name: string, next: ActivationParam): (x: string) => string {
  const k = (v: number) => literal(acc === 'float' ? Math.fround(v) : v, acc === 'float' ? 'f32' : 'f64');
  const [zero, one] = acc === 'float' ? ['0.0f', '1.0f'] : ['0.0', '1.0'];
  const [exp, fmin, fmax] = acc === 'float' ? ['expf', 'fminf', 'fmaxf'] : ['exp', 'fmin', 'fmax'];
  switch (name.toLowerCase()) {
    case 'sigmoid': return (x) => `lathe_rnn_sigmoid_${acc}(${x})`;
    case 'tanh': return (x) => `lathe_rnn_tanh_${acc}(${x})`;
    case 'relu': return (x) => `(${x} > ${zero} ? ${x} : ${zero})`;
    case 'softsign': return (x) => `lathe_rnn_softsign_${acc}(${x})`;
    case 'softplus': return (x) => `lathe_rnn_softplus_${acc}(${x})`;
    case 'affine': {
      const a = next('alpha', 1);
      const b = next('beta', 0);
      return (x) => `(${k(a)} * ${x} + ${k(b)})`;
    }
    case 'leakyrelu': {
      const a = next('alpha', 0.01);
      return (x) => `(${x} >= ${zero} ? ${x} : ${k(a)} * ${x})`;
    }
    case 'thresholdedrelu': {
      const a = next('alpha', 1);
      return (x) => `(${x} > ${k(a)} ? ${x} : ${zero})`;
    }
    case 'scaledtanh': {
      const a = next('alpha', 1);
      const b = next('beta', 1);
      return (x) => `(${k(a)} * lathe_rnn_tanh_${acc}(${k(b)} * ${x}))`;
    }
    case 'hardsigmoid': {
      const a = next('alpha', 0.2);
      const b = next('beta', 0.5);
      return (x) => `${fmax}(${zero}, ${fmin}(${one}, ${k(a)} * ${x} + ${k(b)}))`;
    }
    case 'elu': {
      const a = next('alpha', 1);
      return (x) => `(${x} >= ${zero} ? ${x} : ${k(a)} * (${exp}(${x}) - ${one}))`;
    }
    default: return ctx.unsupported(`unknown recurrent activation '${name}'`);
  }
}

/** Each direction's activations (as the interpreter's `activations`). */
function activations(ctx: CudaContext, acc: Acc, defaults: readonly string[], dirs: number): ((x: string) => string)[][] {
  return recurrentActivations(ctx, defaults, dirs, (why) => ctx.unsupported(why), (n, next) => activationExpr(ctx, acc, n, next));
}

function lowerRecurrent(ctx: CudaContext, cell: CellSpec) {
  const operands = recurrentOperands(ctx, cell);
  const { x, w, r, bias, lens, h0, c0, peep, yOut, yhOut, ycOut } = operands;
  const xe = elemOf(ctx, x);
  if (xe !== 'f32' && xe !== 'f16' && xe !== 'bf16' && xe !== 'f64') return ctx.unsupported(`${cell.op} on ${x.dtype}`);
  const acc: Acc = xe === 'f64' ? 'double' : 'float';
  const { batchFirst, direction, S, Bn, I, H, D, G } = recurrentGeometry(ctx, cell, operands);
  if (!yOut && !yhOut && !ycOut) return [];
  if (D * Bn === 0 || H === 0) return [];
  const acts = activations(ctx, acc, cell.defaults, D);
  const clipAt = ctx.attr('clip') ? ctx.float('clip') : undefined;
  const [fmin, fmax] = acc === 'float' ? ['fminf', 'fmaxf'] : ['fmin', 'fmax'];
  const lit = (v: number) => literal(acc === 'float' ? Math.fround(v) : v, acc === 'float' ? 'f32' : 'f64');
  const clip = (v: string) => (clipAt === undefined ? v : `${fmax}(${lit(-clipAt)}, ${fmin}(${lit(clipAt)}, ${v}))`);
  const linearBeforeReset = ctx.int('linear_before_reset', 0) !== 0;
  const inputForget = ctx.int('input_forget', 0) !== 0;
  const [zero, one] = acc === 'float' ? ['0.0f', '1.0f'] : ['0.0', '1.0'];

  const lstm = cell.op === 'LSTM';
  const twoPhase = cell.op === 'GRU' && !linearBeforeReset;
  // Shared state per block: h, c, new h, GRU's z and r⊙h (H each).
  const SLOTS = 5;
  const sharedBytes = SLOTS * H * (acc === 'float' ? 4 : 8);
  if (sharedBytes > ctx.caps.maxSharedBytes) return ctx.unsupported(`hidden size ${H} needs ${sharedBytes} bytes of shared state`);
  let threads = 32;
  while (threads < H && threads < 256) threads *= 2;

  const bindings: CudaBinding[] = [readBinding(ctx, 'xs', x), readBinding(ctx, 'wt', w), readBinding(ctx, 'rt', r)];
  const opt = (param: string, t: StaticTensor | undefined, write = false) => {
    if (t) bindings.push(write ? writeBinding(ctx, param, t) : readBinding(ctx, param, t));
  };
  opt('bs', bias);
  opt('lens', lens);
  opt('h0', h0);
  opt('c0', c0);
  opt('pp', peep);
  opt('yo', yOut, true);
  opt('yh', yhOut, true);
  opt('yc', ycOut, true);
  const elemOfParam = new Map(bindings.map((b) => [b.param, b.elem]));
  const put = (param: string, v: string) => store(v, elemOfParam.get(param)!);
  const ld = (v: string) => `lathe_rnn_ld_${acc}(${v})`;

  const stateAt = batchFirst ? `(b * ${u(D)} + d) * ${u(H)}` : `(d * ${u(Bn)} + b) * ${u(H)}`;
  const xAt = (t: string) => (batchFirst ? `(b * ${u(S)} + ${t}) * ${u(I)}` : `(${t} * ${u(Bn)} + b) * ${u(I)}`);
  const yAt = (t: string) => (batchFirst ? `((b * ${u(S)} + ${t}) * ${u(D)} + d) * ${u(H)}` : `((${t} * ${u(D)} + d) * ${u(Bn)} + b) * ${u(H)}`);
  // W·x_t + Wb and R·v + Rb for gate row `row` (an expression) of direction d.
  const gx = (row: string) =>
    `(${bias ? `${ld(`bs[d * ${u(2 * G * H)} + ${row}]`)} + ` : ''}lathe_rnn_dot_${acc}(wt + (d * ${u(G * H)} + ${row}) * ${u(I)}, xs + xo, ${u(I)}))`;
  const rdot = (row: string, v: string) =>
    `(${bias ? `${ld(`bs[d * ${u(2 * G * H)} + ${u(G * H)} + ${row}]`)} + ` : ''}lathe_rnn_dot_${acc}(rt + (d * ${u(G * H)} + ${row}) * ${u(H)}, ${v}, ${u(H)}))`;
  const perUnit = (lines: string[]) => [`for (unsigned j = j0; j < ${u(H)}; j += ${u(threads)}) {`, ...lines.map((l) => `  ${l}`), '}'];

  // One step for a direction's activations: phases separated by barriers (every thread reaches
  // each; inactive steps only skip the units' work).
  const stepFor = (a: ((x: string) => string)[]): string[] => {
    const phases: string[][] = [];
    if (cell.op === 'RNN') {
      phases.push(perUnit([`const ${acc} pre = ${clip(`${gx('j')} + ${rdot('j', 'sh')}`)};`, `hn[j] = ${a[0]!('pre')};`]));
    } else if (cell.op === 'GRU') {
      const [fa, ga] = a as [(x: string) => string, (x: string) => string];
      const first = [
        `const ${acc} pz = ${clip(`${gx('j')} + ${rdot('j', 'sh')}`)};`,
        `const ${acc} z = ${fa('pz')};`,
        `const ${acc} pr = ${clip(`${gx(`${u(H)} + j`)} + ${rdot(`${u(H)} + j`, 'sh')}`)};`,
        `const ${acc} rg = ${fa('pr')};`,
        // The candidate's second phase reads z and r⊙h (linear_before_reset needs neither).
        ...(linearBeforeReset ? [] : ['zs[j] = z;', 'rh[j] = rg * sh[j];']),
      ];
      if (linearBeforeReset) {
        first.push(
          `const ${acc} ph = ${clip(`${gx(`${u(2 * H)} + j`)} + rg * ${rdot(`${u(2 * H)} + j`, 'sh')}`)};`,
          `const ${acc} hh = ${ga('ph')};`,
          `hn[j] = (${one} - z) * hh + z * sh[j];`,
        );
        phases.push(perUnit(first));
      } else {
        phases.push(perUnit(first));
        phases.push(
          perUnit([
            `const ${acc} ph = ${clip(`${gx(`${u(2 * H)} + j`)} + ${rdot(`${u(2 * H)} + j`, 'rh')}`)};`,
            `const ${acc} hh = ${ga('ph')};`,
            `hn[j] = (${one} - zs[j]) * hh + zs[j] * sh[j];`,
          ]),
        );
      }
    } else {
      const [fa, ga, ha] = a as [(x: string) => string, (x: string) => string, (x: string) => string];
      const pe = (k: number) => (peep ? `${ld(`pp[d * ${u(3 * H)} + ${u(k * H)} + j]`)}` : zero);
      phases.push(
        perUnit([
          `const ${acc} cp = sc[j];`,
          `const ${acc} pi = ${clip(`${gx('j')} + ${rdot('j', 'sh')} + ${pe(0)} * cp`)};`,
          `const ${acc} ig = ${fa('pi')};`,
          ...(inputForget
            ? [`const ${acc} fg = ${one} - ig;`]
            : [`const ${acc} pf = ${clip(`${gx(`${u(2 * H)} + j`)} + ${rdot(`${u(2 * H)} + j`, 'sh')} + ${pe(2)} * cp`)};`, `const ${acc} fg = ${fa('pf')};`]),
          `const ${acc} pc = ${clip(`${gx(`${u(3 * H)} + j`)} + ${rdot(`${u(3 * H)} + j`, 'sh')}`)};`,
          `const ${acc} cc = ${ga('pc')};`,
          `const ${acc} cn = fg * cp + ig * cc;`,
          `const ${acc} po = ${clip(`${gx(`${u(H)} + j`)} + ${rdot(`${u(H)} + j`, 'sh')} + ${pe(1)} * cn`)};`,
          `const ${acc} og = ${fa('po')};`,
          `hn[j] = og * ${ha('cn')};`,
          // c[j] is read only by this thread (its own peephole and update).
          'sc[j] = cn;',
        ]),
      );
    }
    return phases.flatMap((p, i) => (i === 0 ? p : ['__syncthreads();', ...p]));
  };
  const ind = (lines: string[], pad: string) => lines.map((l) => `${pad}${l}`);
  const step0 = stepFor(acts[0]!);
  const step1 = D === 2 ? stepFor(acts[1]!) : step0;
  // Directions with different activations take different branches; d is the same for the whole
  // block, so the barriers inside stay uniform.
  const same = step0.join('\n') === step1.join('\n');
  const step = same ? ind(step0, '    ') : ['    if (d == 0u) {', ...ind(step0, '      '), '    } else {', ...ind(step1, '      '), '    }'];
  const reverse = direction === 'reverse' ? 'true' : direction === 'bidirectional' ? 'd == 1u' : 'false';

  const body = [
    `  CUDA_DYNAMIC_SHARED(${acc}, st);`,
    `  ${acc}* sh = st;`,
    `  ${acc}* hn = st + ${u(2 * H)};`,
    // Only the slots a cell uses are named (nvcc rejects a variable set but never used).
    ...(lstm ? [`  ${acc}* sc = st + ${u(H)};`] : []),
    ...(twoPhase ? [`  ${acc}* zs = st + ${u(3 * H)};`, `  ${acc}* rh = st + ${u(4 * H)};`] : []),
    '  const unsigned tid = threadIdx.x;',
    `  const unsigned d = blockIdx.x / ${u(Bn)};`,
    `  const unsigned b = blockIdx.x % ${u(Bn)};`,
    `  const unsigned so = ${stateAt};`,
    `  for (unsigned j = tid; j < ${u(H)}; j += ${u(threads)}) {`,
    `    sh[j] = ${h0 ? ld('h0[so + j]') : zero};`,
    ...(lstm ? [`    sc[j] = ${c0 ? ld('c0[so + j]') : zero};`] : []),
    '  }',
    // Lengths outside [0, S] are invalid (the interpreter refuses them); clamped, nothing reads out of bounds.
    ...(lens
      ? ['  long long lraw = (long long)lens[b];', `  const unsigned len = (unsigned)(lraw < 0 ? 0 : (lraw > ${S} ? ${S} : lraw));`]
      : [`  const unsigned len = ${u(S)};`]),
    `  const bool rev = ${reverse};`,
    '  __syncthreads();',
    `  for (unsigned s = 0; s < ${u(S)}; ++s) {`,
    '    const bool live = s < len;',
    '    const unsigned t = rev && live ? len - 1u - s : s;',
    `    const unsigned xo = ${xAt('t')};`,
    `    const unsigned j0 = live ? tid : ${u(H)};`,
    ...step,
    '    __syncthreads();',
    `    for (unsigned j = tid; j < ${u(H)}; j += ${u(threads)}) {`,
    '      if (live) sh[j] = hn[j];',
    ...(yOut ? [`      yo[${yAt('t')} + j] = ${put('yo', `live ? hn[j] : ${zero}`)};`] : []),
    '    }',
    '    __syncthreads();',
    '  }',
    `  for (unsigned j = tid; j < ${u(H)}; j += ${u(threads)}) {`,
    ...(yhOut ? [`    yh[so + j] = ${put('yh', 'sh[j]')};`] : []),
    ...(ycOut ? [`    yc[so + j] = ${put('yc', 'sc[j]')};`] : []),
    ...(!yhOut && !ycOut ? ['    (void)so;'] : []),
    '  }',
  ];
  const k = cudaKernel({
    name: ctx.kernelName(cell.op.toLowerCase()),
    node: ctx.node.name,
    op: ctx.node.op,
    bindings,
    helpers: helpers(acc),
    body: body.join('\n'),
    grid: D * Bn,
    block: threads,
    sharedBytes,
    // Without a minimum of blocks, ptxas caps these kernels at 32 registers and spills (seen at
    // sm_80 and sm_90); one block per SM is enough, as the grid is only D·B blocks.
    minBlocks: 1,
  });
  return [k];
}

defineOnnxCuda(['RNN'], (ctx) => lowerRecurrent(ctx, CELLS.RNN!));
defineOnnxCuda(['GRU'], (ctx) => lowerRecurrent(ctx, CELLS.GRU!));
defineOnnxCuda(['LSTM'], (ctx) => lowerRecurrent(ctx, CELLS.LSTM!));
