// Conv as an implicit GEMM on the tiled GEMM of gemm-tile.ts, any number of spatial dims, with
// group, dilations, pads, strides and auto_pad. For batch n and group g (dispatch z = n·group + g):
//   Y[n, g·Mg + m, p] = Σ_k W[g·Mg + m, k] · X̂[k, p] + bias[g·Mg + m]
// where k = (c, kernel position) runs over Cg·kSize and X̂ is the im2col matrix, never stored:
// the B loader gathers the four output positions of its quad straight from X (0 in the padding).
// A 1×1 kernel with stride 1 and no padding reads X itself as B (vec4 loads where aligned).
// ConvTranspose (below) is a direct gather kernel.
import type { Kernel, KernelBinding } from '../kernel.ts';
import type { LowerContext } from '../lowering.ts';
import { defineOnnxWgsl } from '../lowering.ts';
import type { GemmShape, StoreEpilogue } from './gemm-tile.ts';
import { gemmDispatch, gemmMain, gemmTile, quadLoad, storeQuad, tileM, tileN } from './gemm-tile.ts';
import { bindingDecl, flatIndex, floatElem, grid1d, keyOf, preamble, stridesOf, u, unroll4 } from './kernel-util.ts';
import { convGeometry, convTransposePlan } from '../../shared/conv-plan.ts';

const numElements = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The im2col element X̂[k, p] of image `xBase`, as a WGSL function body (returns f32). */
function gatherBody(inSp: readonly number[], kernel: readonly number[], outSp: readonly number[], strides: readonly number[], dilations: readonly number[], padBegin: readonly number[]): string {
  const kSize = numElements(kernel);
  const kStr = stridesOf(kernel);
  const oStr = stridesOf(outSp);
  const iStr = stridesOf(inSp);
  const lines = [`let c = k / ${u(kSize)};`, `let kr = k % ${u(kSize)};`, `var off = xBase + c * ${u(numElements(inSp))};`];
  for (let d = 0; d < inSp.length; d++) {
    // i = o·stride − padBegin + kd·dilation, in i32 so the padding is negative.
    lines.push(
      `let o${d} = i32((p / ${u(oStr[d]!)}) % ${u(outSp[d]!)});`,
      `let k${d} = i32((kr / ${u(kStr[d]!)}) % ${u(kernel[d]!)});`,
      `let i${d} = o${d} * ${strides[d]!} - ${padBegin[d]!} + k${d} * ${dilations[d]!};`,
      `if (i${d} < 0 || i${d} >= ${inSp[d]!}) { return 0.0; }`,
      `off += u32(i${d}) * ${u(iStr[d]!)};`,
    );
  }
  lines.push('return f32(x[off]);');
  return lines.join('\n  ');
}

/** Conv's kernel, with an optional epilogue (../fuse-epilogue.ts). */
export function lowerConv(ctx: LowerContext, epi?: StoreEpilogue): Kernel[] {
  const x = ctx.input(0)!;
  const w = ctx.input(1)!;
  const bias = ctx.input(2);
  const y = ctx.output(0)!;
  const N = x.shape[0]!;
  // The attribute reading is the interpreter's, so the geometry cannot drift from the reference.
  const { C, inSp, M, group, kernel, win, Cg, Mg } = convGeometry(ctx, x, w);
  const kSize = numElements(kernel);
  const P = numElements(win.out);
  const K = Cg * kSize;
  if (numElements(y.shape) === 0) return [];
  const direct = kSize === 1 && win.strides.every((s) => s === 1) && win.padBegin.every((p) => p === 0) && win.out.every((o, d) => o === inSp[d]);
  const s: GemmShape = { M: Mg, N: P, K, batches: N * group, aAlong: 'k', bAlong: 'n' };
  if (s.batches > ctx.caps.maxComputeWorkgroupsPerDimension) ctx.unsupported(`${s.batches} images × groups exceed the dispatch limit`);
  const T = gemmTile(ctx.caps, Mg, P);
  // Sizes that are multiples of the tile need no bounds checks in the loaders.
  const fitW = Mg % tileM(T) === 0 && K % T.tk === 0;
  const fitX = P % tileN(T) === 0 && K % T.tk === 0;
  const wVec = K % 4 === 0;
  const xVec = direct && P % 4 === 0;
  const yVec = P % 4 === 0;
  const out = epi?.result ?? y;
  const elem = floatElem(ctx, out);
  const bindings: KernelBinding[] = [
    { value: x.name, access: 'read', elem: floatElem(ctx, x) },
    { value: w.name, access: 'read', elem: floatElem(ctx, w) },
    ...(bias ? [{ value: bias.name, access: 'read' as const, elem: floatElem(ctx, bias) }] : []),
    ...(epi?.bindings ?? []),
    { value: out.name, access: 'read_write', elem },
  ];
  const yIdx = bindings.length - 1;
  // Image n, group g: X's channels g·Cg …, W's rows g·Mg …, Y's channels g·Mg ….
  const zs = `let n = z / ${u(group)}; let g = z % ${u(group)};`;
  const xBase = `(n * ${u(C)} + g * ${u(Cg)}) * ${u(numElements(inSp))}`;
  // The im2col quad: four output positions at one k (each gathered; 0 past P or K).
  const loadB = direct
    ? quadLoad('x', xBase, 'k', 'col', K, P, xVec, !fitX)
    : `let xBase = ${xBase};
  var v = vec4<f32>(0.0);
  if (k < ${u(K)}) {
    ${unroll4((c, j) => `if (col + ${j}u < ${u(P)}) { v.${c} = im2col(xBase, k, col + ${j}u); }`, '\n    ')}
  }
  return v;`;
  const code = `${preamble(bindings)}
${bindingDecl(0, 'x', bindings[0]!, xVec)}
${bindingDecl(1, 'w', bindings[1]!, wVec)}
${bias ? bindingDecl(2, 'bias', bindings[2]!) : ''}
${epi ? epi.code(bias ? 3 : 2) : ''}
${bindingDecl(yIdx, 'y', bindings[yIdx]!, yVec)}

${direct ? '' : `fn im2col(xBase: u32, k: u32, p: u32) -> f32 {
  ${gatherBody(inSp, kernel, win.out, win.strides, win.dilations, win.padBegin)}
}`}
fn loadA(z: u32, m: u32, k: u32) -> vec4<f32> {
  let g = z % ${u(group)};
  ${quadLoad('w', `g * ${u(Mg * K)}`, 'm', 'k', Mg, K, wVec, !fitW)}
}
fn loadB(z: u32, k: u32, col: u32) -> vec4<f32> {
  ${zs}
  ${loadB}
}
fn storeC(z: u32, m: u32, p: u32, v: vec4<f32>) {
  ${zs}
  let ch = g * ${u(Mg)} + m;
  let o = (n * ${u(M)} + ch) * ${u(P)} + p;
  let r = ${bias ? 'v + f32(bias[ch])' : 'v'};
  ${storeQuad(elem, yVec, 'p', P, epi)}
}
${gemmMain(s, T)}`;
  const kernelOut: Kernel = {
    name: ctx.kernelName('conv_igemm'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('conv', x.shape, w.shape, !!bias, group, win, [T.wx, T.wy, T.r, T.cv, T.tk], bindings.map((b) => b.elem), epi?.key),
    code,
    bindings,
    uniforms: [],
    dispatch: gemmDispatch(s, T),
  };
  return [kernelOut];
}

defineOnnxWgsl(['Conv'], (ctx) => lowerConv(ctx));

// ConvTranspose as a gather: one invocation per output element sums, over its group's input
// channels and the kernel positions, the input positions i that scatter onto it
// (o = i·stride − padBegin + k·dilation, so i = (o + padBegin − k·dilation) / stride when that
// divides exactly and lands inside the input). No atomics, no col buffer.
defineOnnxWgsl(['ConvTranspose'], (ctx) => {
  const x = ctx.input(0)!;
  const w = ctx.input(1)!;
  const bias = ctx.input(2);
  const y = ctx.output(0)!;
  const { C, inSp, r, group, Cg, Mg, M, kernel, strides, dilations, outSp, padBegin } = convTransposePlan(ctx, x, w, y);
  const total = numElements(y.shape);
  if (total === 0) return [];
  const P = numElements(outSp);
  const kSize = numElements(kernel);
  const oStr = stridesOf(outSp);
  const iStr = stridesOf(inSp);
  const kStr = stridesOf(kernel);
  const elem = floatElem(ctx, y);
  const bindings: KernelBinding[] = [
    { value: x.name, access: 'read', elem: floatElem(ctx, x) },
    { value: w.name, access: 'read', elem: floatElem(ctx, w) },
    ...(bias ? [{ value: bias.name, access: 'read' as const, elem: floatElem(ctx, bias) }] : []),
    { value: y.name, access: 'read_write', elem },
  ];
  const yIdx = bindings.length - 1;
  const WG = 64;
  const dispatch = grid1d(total, WG, ctx.caps.maxComputeWorkgroupsPerDimension);
  const dims = inSp.map((_, d) => [
    `let k${d} = i32((kr / ${u(kStr[d]!)}) % ${u(kernel[d]!)});`,
    `let s${d} = o${d} + ${padBegin[d]!} - k${d} * ${dilations[d]!};`,
    `let i${d} = s${d} / ${strides[d]!};`,
    `if (s${d} < 0 || s${d} % ${strides[d]!} != 0 || i${d} >= ${inSp[d]!}) { continue; }`,
  ].join('\n      ')).join('\n      ');
  const inOff = inSp.map((_, d) => `u32(i${d}) * ${u(iStr[d]!)}`).join(' + ');
  const code = `${preamble(bindings)}
${bindingDecl(0, 'x', bindings[0]!)}
${bindingDecl(1, 'w', bindings[1]!)}
${bias ? bindingDecl(2, 'bias', bindings[2]!) : ''}
${bindingDecl(yIdx, 'y', bindings[yIdx]!)}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = ${flatIndex(WG, dispatch)};
  if (t >= ${u(total)}) { return; }
  let p = t % ${u(P)};
  let ch = (t / ${u(P)}) % ${u(M)};
  let n = t / ${u(M * P)};
  let g = ch / ${u(Mg)};
  let ml = ch % ${u(Mg)};
  ${outSp.map((o, d) => `let o${d} = i32((p / ${u(oStr[d]!)}) % ${u(o)});`).join('\n  ')}
  var acc = ${bias ? 'f32(bias[ch])' : '0.0'};
  for (var c = 0u; c < ${u(Cg)}; c++) {
    let cin = g * ${u(Cg)} + c;
    let xBase = (n * ${u(C)} + cin) * ${u(numElements(inSp))};
    let wBase = (cin * ${u(Mg)} + ml) * ${u(kSize)};
    for (var kr = 0u; kr < ${u(kSize)}; kr++) {
      ${dims}
      acc = fma(f32(x[xBase + ${inOff}]), f32(w[wBase + kr]), acc);
    }
  }
  y[t] = ${elem}(acc);
}
`;
  return [
    {
      name: ctx.kernelName('conv_transpose'),
      node: ctx.node.name,
      op: ctx.node.op,
      key: keyOf('convT', x.shape, w.shape, y.shape, !!bias, group, strides, dilations, padBegin, bindings.map((b) => b.elem)),
      code,
      bindings,
      uniforms: [],
      dispatch,
    },
  ];
});
