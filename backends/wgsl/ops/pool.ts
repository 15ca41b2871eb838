// MaxPool (with the optional Indices result), AveragePool (count_include_pad) and the global pools.
// Windowed pools: one invocation per output element walking its window (the window is small and
// its bounds are baked in). Global pools: one workgroup per (n, c) plane, each invocation striding
// over the plane, then a tree reduction in workgroup memory.
import { poolWindowPlan } from '../../shared/pool-window.ts';
import type { Kernel, KernelBinding } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import { anyElem, bindingDecl, f, flatIndex, floatElem, grid1d, keyOf, preamble, u } from './kernel-util.ts';

const numElements = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const WG = 64;

function windowPool(ctx: LowerContext, kind: 'max' | 'avg'): Kernel[] {
  const { x, y, idx, inSp, r, kernel, win, includePad, colMajor, total, P, inPlane, oStr, iStr, cStr } = poolWindowPlan(ctx, kind === 'max');
  if (total === 0) return [];
  // MaxPool also takes 8-bit integers (stored as i32): computed in f32, where they are exact.
  const elem = kind === 'max' && (x.dtype === 'u8' || x.dtype === 'i8') ? anyElem(ctx, x.dtype, 'X') : floatElem(ctx, x);
  const bindings: KernelBinding[] = [
    { value: x.name, access: 'read', elem },
    { value: y.name, access: 'read_write', elem },
    ...(idx ? [{ value: idx.name, access: 'read_write' as const, elem: anyElem(ctx, idx.dtype, 'Indices') }] : []),
  ];
  const dispatch = grid1d(total, WG, ctx.caps.maxComputeWorkgroupsPerDimension);
  // Nested loops over the kernel dims; `inside` is whether every coordinate so far is in bounds.
  const open: string[] = [];
  const close: string[] = [];
  for (let d = 0; d < r; d++) {
    open.push(
      `for (var k${d} = 0; k${d} < ${kernel[d]!}; k${d}++) {`,
      `  let i${d} = o${d} * ${win.strides[d]!} - ${win.padBegin[d]!} + k${d} * ${win.dilations[d]!};`,
      // The padded extent (for count_include_pad) ends at in + padEnd.
      `  let in${d} = i${d} >= 0 && i${d} < ${inSp[d]!};`,
      `  let pad${d} = i${d} >= -${win.padBegin[d]!} && i${d} < ${inSp[d]! + win.padEnd[d]!};`,
    );
    close.push('}');
  }
  const inside = inSp.map((_, d) => `in${d}`).join(' && ');
  const inPad = inSp.map((_, d) => `pad${d}`).join(' && ');
  const off = inSp.map((_, d) => `u32(i${d}) * ${u(iStr[d]!)}`).join(' + ');
  const coff = inSp.map((_, d) => `u32(i${d}) * ${u(cStr[d]!)}`).join(' + ');
  const body =
    kind === 'max'
      ? `if (${inside}) {
      let v = f32(x[base + ${off}]);
      if (v > best || at < 0) { best = v; at = i32(${colMajor ? coff : off}); }
    }`
      : `if (${inside}) { sum += f32(x[base + ${off}]); }
    if (${includePad ? inPad : inside}) { count += 1.0; }`;
  const result =
    kind === 'max'
      ? `y[t] = ${elem}(best);${idx ? `\n  idx[t] = ${bindings[2]!.elem}(i32(base) + at);` : ''}`
      : `y[t] = ${elem}(sum / count);`;
  const code = `${preamble(bindings)}
${bindingDecl(0, 'x', bindings[0]!)}
${bindingDecl(1, 'y', bindings[1]!)}
${idx ? bindingDecl(2, 'idx', bindings[2]!) : ''}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = ${flatIndex(WG, dispatch)};
  if (t >= ${u(total)}) { return; }
  let nc = t / ${u(P)};
  let p = t % ${u(P)};
  let base = nc * ${u(inPlane)};
  ${win.out.map((o, d) => `let o${d} = i32((p / ${u(oStr[d]!)}) % ${u(o)});`).join('\n  ')}
  var best = ${f(-3.4028234663852886e38)};
  var at = -1;
  var sum = 0.0;
  var count = 0.0;
  ${open.join('\n  ')}
    ${body}
  ${close.join(' ')}
  ${result}
}
`;
  return [
    {
      name: ctx.kernelName(`${kind}pool`),
      node: ctx.node.name,
      op: ctx.node.op,
      key: keyOf('pool', kind, x.shape, win, includePad, colMajor, !!idx, bindings.map((b) => b.elem)),
      code,
      bindings,
      uniforms: [],
      dispatch,
    },
  ];
}

defineOnnxWgsl(['MaxPool'], (ctx) => windowPool(ctx, 'max'));
defineOnnxWgsl(['AveragePool'], (ctx) => windowPool(ctx, 'avg'));

function globalPool(ctx: LowerContext, kind: 'max' | 'avg'): Kernel[] {
  const x = ctx.input(0)!;
  const y = ctx.output(0)!;
  const [N, C] = x.shape as [number, number];
  const plane = numElements(x.shape.slice(2));
  if (N * C === 0) return [];
  const elem = floatElem(ctx, x);
  const bindings: KernelBinding[] = [
    { value: x.name, access: 'read', elem },
    { value: y.name, access: 'read_write', elem },
  ];
  const dispatch = grid1d(N * C, 1, ctx.caps.maxComputeWorkgroupsPerDimension);
  const init = kind === 'max' ? f(-3.4028234663852886e38) : '0.0';
  // A NaN wins in max (as the interpreter's `v > a ? v : a` keeps a NaN accumulator only if it
  // comes first, the exact NaN rule is not matched; finite inputs agree).
  const step = kind === 'max' ? 'max(acc, v)' : 'acc + v';
  const code = `${preamble(bindings)}
${bindingDecl(0, 'x', bindings[0]!)}
${bindingDecl(1, 'y', bindings[1]!)}
var<workgroup> part: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let nc = wid.x + wid.y * ${u(dispatch[0])};
  // Every invocation reaches the barriers; planes past N·C only skip the loads and the store.
  var acc = ${init};
  if (nc < ${u(N * C)}) {
    for (var i = li; i < ${u(plane)}; i += ${u(WG)}) {
      let v = f32(x[nc * ${u(plane)} + i]);
      acc = ${step};
    }
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = ${u(WG / 2)}; s > 0u; s >>= 1u) {
    if (li < s) { let v = part[li + s]; acc = ${step}; part[li] = acc; }
    workgroupBarrier();
  }
  if (li == 0u && nc < ${u(N * C)}) { y[nc] = ${elem}(${kind === 'avg' ? `acc / ${f(plane)}` : 'acc'}); }
}
`;
  return [
    {
      name: ctx.kernelName(`global_${kind}pool`),
      node: ctx.node.name,
      op: ctx.node.op,
      key: keyOf('gpool', kind, x.shape, elem),
      code,
      bindings,
      uniforms: [],
      dispatch,
    },
  ];
}

defineOnnxWgsl(['GlobalMaxPool'], (ctx) => globalPool(ctx, 'max'));
defineOnnxWgsl(['GlobalAveragePool'], (ctx) => globalPool(ctx, 'avg'));
