// The SVDQuant ops (docs/svdquant.md) as WGSL kernels:
//   lathe.Quantize4  one invocation per (row, group; K padded to whole groups with zeros):
//                    x̂ = x·inv_smooth, absmax, the scale, the codes, packed; the arithmetic of
//                    ir/quant4.ts step for step (each f32
//                    operation rounded, round() half to even, E4M3/E2M1 by integer bit work), so
//                    codes and scales equal the interpreter's bit for bit where the device's f32
//                    divide is correctly rounded (lavapipe's is; WGSL only promises 2.5 ULP).
//   lathe.Linear4    a W4A4 GEMM on packed integers: a workgroup computes a BM×64 tile of Y
//                    (invocations of 4 rows × 4 outputs), staging the activations' and weights'
//                    u32 words (8 nibbles each) in workgroup memory; nibbles are sign-extended
//                    (nvfp4: E2M1 doubled to integers) and multiplied exactly in i32 per group,
//                    then acc = acc + (f32(d)·sx)·sw per group in order (the product kept
//                    from being fused into an FMA), + bias: on lavapipe the interpreter's result
//                    bit for bit.
//   lathe.LowRank    two small tiled GEMMs: T = (X ⊙ inv_smooth)·L1 into a scratch buffer,
//                    then Y = T·L2.
//
// Storage of the 4-bit codes. The WGSL runtime keeps u8 tensors one byte per i32 element
// (kernel.ts storageElem). A u8 value that only these kernels touch — Quantize4's QX or a
// constant (QW, nvfp4's SW) whose every consumer is Linear4, and which is no graph input or output
// — is stored packed instead: four bytes to a u32 word, little-endian (byte i in bits 8·(i%4) of
// word i/4), so a word holds 8 consecutive codes, code 8w+j in nibble j. packedU8Values decides
// this per program (lower.ts passes it to the shared driver as BackendRules.valueStorage: elem
// 'u32', ⌈n/4⌉·4 bytes), and the runtime's toStorage/fromStorage pack and unpack such a value
// (dtype u8, elem u32); `lathe compile` writes packed weights as u32 words (compile.ts).
// Anywhere else (a graph input or output, a value another op reads) the kernels read and write
// the i32-per-byte layout, so both layouts are generated here.
import type { Graph } from '../../../ir/graph.ts';
import { LATHE_DOMAIN, subgraphsOf } from '../../../ir/graph.ts';
import { numElements } from '../../../ir/types.ts';
import type { Kernel, KernelBinding, KernelUniform } from '../kernel.ts';
import { uniformStruct } from '../uniforms.ts';
import type { LowerContext, StaticTensor } from '../lowering.ts';
import { defineWgsl } from '../lowering.ts';
import { anyElem, bindingDecl, f, flatIndex, floatElem, grid1d, keyOf, preamble, u, unroll4 } from './kernel-util.ts';

// ---- which u8 values are packed ----

let packedNow: ReadonlySet<string> = new Set();

/** Lower with `names` as the packed u8 values (lower.ts, around the shared driver's walk). */
export function withPackedBytes<T>(names: ReadonlySet<string>, fn: () => T): T {
  const prev = packedNow;
  packedNow = names;
  try {
    return fn();
  } finally {
    packedNow = prev;
  }
}

/** Every name the nodes of `g` and its nested subgraphs read. */
function namesRead(g: Graph, out: string[] = []): string[] {
  for (const n of g.nodes) {
    for (const name of n.inputs) if (name) out.push(name);
    for (const sg of subgraphsOf(n)) namesRead(sg.graph, out);
  }
  return out;
}

const isLathe = (n: { domain: string; op: string }, op: string) => n.domain === LATHE_DOMAIN && n.op === op;

/**
 * The u8 values of `g` stored four to a u32 word: operands QX, QW, SW of lathe.Linear4 nodes that
 * no other node reads (nor a subgraph, nor as another operand), that are no graph input or
 * output, and that a lathe.Quantize4 makes (its QX) or that are constants.
 */
export function packedU8Values(g: Graph): Set<string> {
  const uses = new Map<string, { op: boolean }[]>();
  const note = (name: string, ok: boolean) => {
    let l = uses.get(name);
    if (!l) uses.set(name, (l = []));
    l.push({ op: ok });
  };
  const producer = new Map<string, { quantize: boolean }>();
  const u8 = new Set<string>();
  for (const c of g.constants) if (c.tensor.dtype === 'u8') u8.add(c.name);
  for (const n of g.nodes) {
    const linear = isLathe(n, 'Linear4');
    n.inputs.forEach((name, i) => name && note(name, linear && (i === 0 || i === 2 || i === 3)));
    // Names a subgraph reads from the outer scope are never packed.
    for (const sg of subgraphsOf(n)) for (const name of namesRead(sg.graph)) note(name, false);
    n.outputs.forEach((o, i) => {
      if (!o) return;
      producer.set(o.name, { quantize: isLathe(n, 'Quantize4') && i === 0 });
      if (o.type.kind === 'tensor' && o.type.dtype === 'u8') u8.add(o.name);
    });
  }
  const io = new Set([...g.inputs.map((v) => v.name), ...g.outputs]);
  const out = new Set<string>();
  for (const name of u8) {
    if (io.has(name)) continue;
    const l = uses.get(name);
    if (!l || !l.every((x) => x.op)) continue;
    const p = producer.get(name);
    if (p && !p.quantize) continue;
    out.add(name);
  }
  return out;
}

const isPacked = (t: StaticTensor) => t.dtype === 'u8' && packedNow.has(t.name);

/** How a kernel binds a u8 tensor: packed words (u32) or one byte per i32. */
function u8Binding(ctx: LowerContext, t: StaticTensor, access: KernelBinding['access']): KernelBinding {
  return { value: t.name, access, elem: isPacked(t) ? 'u32' : anyElem(ctx, 'u8', t.name) };
}

/** WGSL `fn <name>(i: u32) -> u32`: word i (bytes 4i..4i+3) of u8 binding `buf`. */
function wordReader(name: string, buf: string, packed: boolean): string {
  if (packed) return `fn ${name}(i: u32) -> u32 { return ${buf}[i]; }`;
  return `fn ${name}(i: u32) -> u32 {
  let b = i * 4u;
  return (u32(${buf}[b]) & 255u) | ((u32(${buf}[b + 1u]) & 255u) << 8u) | ((u32(${buf}[b + 2u]) & 255u) << 16u) | ((u32(${buf}[b + 3u]) & 255u) << 24u);
}`;
}

/** WGSL `fn <name>(i: u32) -> u32`: byte i of u8 binding `buf`. */
function byteReader(name: string, buf: string, packed: boolean): string {
  if (packed) return `fn ${name}(i: u32) -> u32 { return (${buf}[i >> 2u] >> ((i & 3u) * 8u)) & 255u; }`;
  return `fn ${name}(i: u32) -> u32 { return u32(${buf}[i]) & 255u; }`;
}

/**
 * Loop bounds as uniforms (`un.<name>`): a loop of a few steps known when compiling is unrolled
 * whole by lavapipe's LLVM, which multiplies the compile time (seconds per kernel) for nothing.
 */
function loopBounds(bounds: Record<string, number>, binding: number): { uniforms: KernelUniform[]; decl: string } {
  const uniforms: KernelUniform[] = Object.entries(bounds).map(([name, value]) => ({ name, type: 'u32', value }));
  return { uniforms, decl: `${uniformStruct(uniforms)}\n@group(0) @binding(${binding}) var<uniform> un: Uniforms;` };
}

/** E4M3 (fn): the code of v ≥ 0 rounded to nearest even, saturating at 448; and a code's value. */
const E4M3_WGSL = `
fn e4m3Code(v: f32) -> u32 {
  if (v >= 448.0) { return 126u; }
  if (v < 0.015625) { return u32(round(v * 512.0)); }
  let e = i32(bitcast<u32>(v) >> 23u) - 127;
  let m = u32(round(v * bitcast<f32>(u32(130 - e) << 23u)));
  return u32(e + 7) * 8u + m - 8u;
}
fn e4m3Value(c: u32) -> f32 {
  let e = (c >> 3u) & 15u;
  let m = c & 7u;
  if (e == 0u) { return f32(m) * 0.001953125; }
  return f32(8u + m) * bitcast<f32>((e + 117u) << 23u);
}`;

/** E2M1: the code of v (nearest, ties to the even mantissa, saturating at ±6; zero is +0). */
const E2M1_WGSL = `
fn e2m1Code(v: f32) -> u32 {
  let a = abs(v);
  var m = 7u;
  if (a <= 0.25) { m = 0u; } else if (a < 0.75) { m = 1u; } else if (a <= 1.25) { m = 2u; } else if (a < 1.75) { m = 3u; }
  else if (a <= 2.5) { m = 4u; } else if (a < 3.5) { m = 5u; } else if (a <= 5.0) { m = 6u; }
  return select(m, m | 8u, v < 0.0 && m != 0u);
}`;

interface QuantAttrs {
  format: 'int4' | 'nvfp4';
  group: number;
  signed: boolean;
}

function quantAttrs(ctx: LowerContext): QuantAttrs {
  const format = ctx.string('format', 'int4');
  if (format !== 'int4' && format !== 'nvfp4') ctx.unsupported(`format '${format}'`);
  const group = ctx.int('group', format === 'nvfp4' ? 16 : 64);
  return { format, group, signed: ctx.int('signed', 1) === 1 };
}

// ---- Quantize4 ----

defineWgsl(LATHE_DOMAIN, 'Quantize4', (ctx) => {
  const x = ctx.input(0)!;
  const inv = ctx.input(1);
  const qx = ctx.output(0)!;
  const sx = ctx.output(1)!;
  const { format, group: G, signed } = quantAttrs(ctx);
  const K = x.shape[x.shape.length - 1]!;
  const rows = numElements(x.shape.slice(0, -1));
  // K is padded to whole groups (docs/svdquant.md): Kp codes per row, the missing x reading 0.
  const Kp = Math.ceil(K / G) * G;
  const groups = Kp / G;
  if (rows * groups === 0) return [];
  const packed = isPacked(qx);
  const bindings: KernelBinding[] = [
    { value: x.name, access: 'read', elem: floatElem(ctx, x) },
    ...(inv ? [{ value: inv.name, access: 'read' as const, elem: floatElem(ctx, inv) }] : []),
    u8Binding(ctx, qx, 'read_write'),
    { value: sx.name, access: 'read_write', elem: 'f32' },
  ];
  const qi = bindings.length - 2;
  const WG = 64;
  const dispatch = grid1d(rows * groups, WG, ctx.caps.maxComputeWorkgroupsPerDimension);
  // x̂ at element i of the group (one f32 multiply, as the interpreter rounds it; 0 past K).
  const xh = (i: string) => `xhat(xBase, k0 + ${i})`;
  const xhat = `fn xhat(xBase: u32, k: u32) -> f32 {
  ${Kp !== K ? `if (k >= ${u(K)}) { return 0.0; }` : ''}
  return ${inv ? 'f32(xm[xBase + k]) * f32(inv[k])' : 'f32(xm[xBase + k])'};
}`;
  const scale =
    format === 'int4'
      ? `let s = a / ${signed ? '7.0' : '15.0'};`
      : `let s = e4m3Value(e4m3Code(a / 6.0));`;
  const code = (v: string) =>
    format === 'int4'
      ? `(u32(i32(select(clamp(round(${v} / s), ${signed ? '-8.0' : '0.0'}, ${signed ? '7.0' : '15.0'}), 0.0, s == 0.0))) & 15u)`
      : `select(e2m1Code(${v} / s), 0u, s == 0.0)`;
  // Each word: 8 codes, code j in nibble j; stored whole (packed) or as four bytes.
  const store = packed
    ? `qx[(qBase >> 3u) + w] = word;`
    : unroll4((_, j) => `qx[(qBase >> 1u) + w * 4u + ${j}u] = i32((word >> ${8 * j}u) & 255u);`);
  const { uniforms, decl } = loopBounds({ gEnd: G, wEnd: G / 8 }, bindings.length);
  const wgsl = `${preamble(bindings)}
${decl}
${bindingDecl(0, 'xm', bindings[0]!)}
${inv ? bindingDecl(1, 'inv', bindings[1]!) : ''}
${bindingDecl(qi, 'qx', bindings[qi]!)}
${bindingDecl(qi + 1, 'sx', bindings[qi + 1]!)}
${format === 'nvfp4' ? E4M3_WGSL + E2M1_WGSL : ''}
${xhat}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let idx = ${flatIndex(WG, dispatch)};
  if (idx >= ${u(rows * groups)}) { return; }
  let row = idx / ${u(groups)};
  let k0 = (idx % ${u(groups)}) * ${u(G)};
  let xBase = row * ${u(K)};
  let qBase = row * ${u(Kp)} + k0; // code index of the group's first code
  var a = 0.0;
  for (var i = 0u; i < un.gEnd; i++) { a = max(a, abs(${xh('i')})); }
  ${scale}
  sx[idx] = s;
  for (var w = 0u; w < un.wEnd; w++) {
    var word = 0u;
    ${Array.from({ length: 8 }, (_, j) => `word |= ${code(xh(`w * 8u + ${j}u`))} << ${4 * j}u;`).join('\n    ')}
    ${store}
  }
}
`;
  const kernel: Kernel = {
    name: ctx.kernelName('quantize4'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('quantize4', format, G, signed, rows, K, !!inv, packed, bindings.map((b) => b.elem), dispatch),
    code: wgsl,
    bindings,
    uniforms,
    dispatch,
  };
  return [kernel];
});

// ---- Linear4 ----

// The largest f32: min(p, it) is p for every finite product, and hides the multiply from the
// compiler's mul + add → FMA fusion (an FMA rounds once where the interpreter rounds twice).
const F32_MAX = '3.4028234663852886e38';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

defineWgsl(LATHE_DOMAIN, 'Linear4', (ctx) => {
  const qx = ctx.input(0)!;
  const sx = ctx.input(1)!;
  const qw = ctx.input(2)!;
  const sw = ctx.input(3)!;
  const bias = ctx.input(4);
  const y = ctx.output(0)!;
  const { format, group: G, signed } = quantAttrs(ctx);
  const ws = ctx.float('weight_scale', 1);
  const K = qx.shape[qx.shape.length - 1]! * 2;
  const N = qw.shape[0]!;
  const M = numElements(qx.shape.slice(0, -1));
  const groups = K / G;
  if (M * N === 0) return [];
  const nvfp4 = format === 'nvfp4';
  const KW = K / 8; // u32 words per row
  const WPG = G / 8; // words per group
  // Invocations: 16 along N × TY along M, each 4 rows × 4 outputs.
  const TX = 16;
  const RM = 4;
  const RN = 4;
  const TY = Math.max(1, Math.min(16, Math.floor(ctx.caps.maxWorkgroupInvocations / TX), 2 ** Math.ceil(Math.log2(Math.ceil(M / RM)))));
  const BM = TY * RM;
  const BN = TX * RN;
  const NT = TX * TY;
  // Words of each row staged per step: a divisor of the group's words that fits workgroup memory.
  const CW = [8, 4, 2, 1].find((c) => WPG % c === 0 && (BM + BN) * c * 4 <= ctx.caps.maxWorkgroupStorageBytes) ?? 1;
  const chunks = WPG / CW;
  const bindings: KernelBinding[] = [
    u8Binding(ctx, qx, 'read'),
    { value: sx.name, access: 'read', elem: floatElem(ctx, sx) },
    u8Binding(ctx, qw, 'read'),
    nvfp4 ? u8Binding(ctx, sw, 'read') : { value: sw.name, access: 'read', elem: floatElem(ctx, sw) },
    ...(bias ? [{ value: bias.name, access: 'read' as const, elem: floatElem(ctx, bias) }] : []),
    { value: y.name, access: 'read_write', elem: floatElem(ctx, y) },
  ];
  const yIdx = bindings.length - 1;
  const xExt = (w: string, j: number) =>
    nvfp4 ? `e2m1x2(${w} >> ${4 * j}u)` : signed ? `(bitcast<i32>(${w} << ${28 - 4 * j}u) >> 28u)` : `i32((${w} >> ${4 * j}u) & 15u)`;
  const wExt = (w: string, j: number) => (nvfp4 ? `e2m1x2(${w} >> ${4 * j}u)` : `(bitcast<i32>(${w} << ${28 - 4 * j}u) >> 28u)`);
  const d = (i: number, j: number) => `d${i}_${j}`;
  const acc = (i: number, j: number) => `acc${i}_${j}`;
  const all = (fn: (i: number, j: number) => string, sep = '\n  ') => range(RM).flatMap((i) => range(RN).map((j) => fn(i, j))).join(sep);
  const inner = [
    ...range(RM).map((i) => `let xw${i} = Xs[(ty + ${u(i * TY)}) * ${u(CW)} + w];`),
    ...range(RN).map((j) => `let ww${j} = Ws[(tx + ${u(j * TX)}) * ${u(CW)} + w];`),
    ...range(8).flatMap((p) => [
      ...range(RM).map((i) => `let x${i}_${p} = ${xExt(`xw${i}`, p)};`),
      ...range(RN).map((j) => `let w${j}_${p} = ${wExt(`ww${j}`, p)};`),
    ]),
    ...range(RM).flatMap((i) => range(RN).map((j) => `${d(i, j)} += ${range(8).map((p) => `x${i}_${p} * w${j}_${p}`).join(' + ')};`)),
  ].join('\n        ');
  const swValue = (n: string) => (nvfp4 ? `(e4m3Value(swByte(${n} * ${u(groups)} + g)) * ${f(ws)})` : `f32(swm[${n} * ${u(groups)} + g])`);
  const applyGroup = [
    ...range(RM).map((i) => `let sx${i} = select(0.0, f32(sxm[min(mr${i}, ${u(M - 1)}) * ${u(groups)} + g]), mr${i} < ${u(M)});`),
    ...range(RN).map((j) => `let sw${j} = select(0.0, ${swValue(`min(nc${j}, ${u(N - 1)})`)}, nc${j} < ${u(N)});`),
    ...range(RM).flatMap((i) =>
      range(RN).map((j) => `let p${i}_${j} = min((f32(${d(i, j)})${nvfp4 ? ' * 0.25' : ''} * sx${i}) * sw${j}, ${F32_MAX});\n    ${acc(i, j)} = ${acc(i, j)} + p${i}_${j};\n    ${d(i, j)} = 0;`),
    ),
  ].join('\n    ');
  const yElem = bindings[yIdx]!.elem;
  const stores = all(
    (i, j) => `if (mr${i} < ${u(M)} && nc${j} < ${u(N)}) { y[mr${i} * ${u(N)} + nc${j}] = ${yElem}(${acc(i, j)}${bias ? ` + f32(bm[nc${j}])` : ''}); }`,
  );
  const { uniforms, decl } = loopBounds({ groups }, bindings.length);
  const wgsl = `${preamble(bindings)}
${decl}
${bindingDecl(0, 'qx', bindings[0]!)}
${bindingDecl(1, 'sxm', bindings[1]!)}
${bindingDecl(2, 'qw', bindings[2]!)}
${bindingDecl(3, 'swm', bindings[3]!)}
${bias ? bindingDecl(4, 'bm', bindings[4]!) : ''}
${bindingDecl(yIdx, 'y', bindings[yIdx]!)}
${wordReader('xWord', 'qx', isPacked(qx))}
${wordReader('wWord', 'qw', isPacked(qw))}
${nvfp4 ? byteReader('swByte', 'swm', isPacked(sw)) + E4M3_WGSL : ''}
${nvfp4 ? '// E2M1 code → its value · 2 (an integer): magnitudes 0 1 2 3 4 6 8 12 by nibble of 0xC8643210.\nfn e2m1x2(c: u32) -> i32 {\n  let v = i32((0xC8643210u >> ((c & 7u) * 4u)) & 15u);\n  return select(v, -v, (c & 8u) != 0u);\n}' : ''}

var<workgroup> Xs: array<u32, ${BM * CW}>;
var<workgroup> Ws: array<u32, ${BN * CW}>;

@compute @workgroup_size(${TX}, ${TY}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = wid.y * ${u(BM)};
  let n0 = wid.x * ${u(BN)};
  let tx = lid.x;
  let ty = lid.y;
  ${range(RM).map((i) => `let mr${i} = m0 + ty + ${u(i * TY)};`).join('\n  ')}
  ${range(RN).map((j) => `let nc${j} = n0 + tx + ${u(j * TX)};`).join('\n  ')}
  ${all((i, j) => `var ${acc(i, j)} = 0.0;`)}
  ${all((i, j) => `var ${d(i, j)} = 0;`)}
  for (var g = 0u; g < un.groups; g++) {
    for (var c = 0u; c < ${u(chunks)}; c++) {
      let kw0 = g * ${u(WPG)} + c * ${u(CW)};
      for (var e = li; e < ${u(BM * CW)}; e += ${u(NT)}) {
        let m = m0 + e / ${u(CW)};
        var v = 0u;
        if (m < ${u(M)}) { v = xWord(m * ${u(KW)} + kw0 + e % ${u(CW)}); }
        Xs[e] = v;
      }
      for (var e = li; e < ${u(BN * CW)}; e += ${u(NT)}) {
        let n = n0 + e / ${u(CW)};
        var v = 0u;
        if (n < ${u(N)}) { v = wWord(n * ${u(KW)} + kw0 + e % ${u(CW)}); }
        Ws[e] = v;
      }
      workgroupBarrier();
      for (var w = 0u; w < ${u(CW)}; w++) {
        ${inner}
      }
      workgroupBarrier();
    }
    ${applyGroup}
  }
  ${stores}
}
`;
  const kernel: Kernel = {
    name: ctx.kernelName('linear4'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('linear4', format, G, signed, ws, M, N, K, TY, CW, !!bias, [qx, qw, sw].map(isPacked), bindings.map((b) => b.elem)),
    code: wgsl,
    bindings,
    uniforms,
    dispatch: [Math.ceil(N / BN), Math.ceil(M / BM), 1],
  };
  return [kernel];
});

// ---- LowRank ----

/**
 * One tiled GEMM C[M, N] = A'[M, K]·B[K, N] (A' = A ⊙ scale along k, where given): 16×16
 * invocations (8×8 on a device with fewer than 256), one output each, K walked in steps of 16 through workgroup memory. One side of
 * both products is the rank (16–64), so the work is small next to Linear4's; a plain tile keeps
 * the kernel short, which matters on lavapipe: gemm-tile.ts's register-blocked kernel takes it
 * ten seconds and more to compile (measured on a loaded 2-core machine), this one about one.
 */
function lowRankGemm(
  ctx: LowerContext,
  what: string,
  M: number,
  K: number,
  N: number,
  a: KernelBinding,
  scale: KernelBinding | undefined,
  b: KernelBinding,
  c: KernelBinding,
): Kernel {
  const T = ctx.caps.maxWorkgroupInvocations >= 256 ? 16 : 8;
  const bindings = [a, ...(scale ? [scale] : []), b, c];
  const bi = scale ? 2 : 1;
  const dispatch: [number, number, number] = [Math.ceil(N / T), Math.ceil(M / T), 1];
  // (Measured: K = 96 as a constant, 6 s to compile; as a uniform, 1 s.)
  const { uniforms, decl } = loopBounds({ kEnd: K }, bindings.length);
  const code = `${preamble(bindings)}
${decl}
${bindingDecl(0, 'am', a)}
${scale ? bindingDecl(1, 'sm', scale) : ''}
${bindingDecl(bi, 'bm', b)}
${bindingDecl(bi + 1, 'y', c)}

var<workgroup> As: array<f32, ${T * T}>;
var<workgroup> Bs: array<f32, ${T * T}>;

@compute @workgroup_size(${T}, ${T}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let m = wid.y * ${u(T)} + lid.y;
  let n = wid.x * ${u(T)} + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < un.kEnd; k0 += ${u(T)}) {
    // As[row][k] = A'[m, k0 + k] (lid.x along k), Bs[k][col] = B[k0 + k, n] (lid.y along k).
    let ka = k0 + lid.x;
    var av = 0.0;
    if (m < ${u(M)} && ka < ${u(K)}) { av = f32(am[m * ${u(K)} + ka])${scale ? ' * f32(sm[ka])' : ''}; }
    As[lid.y * ${u(T)} + lid.x] = av;
    let kb = k0 + lid.y;
    var bv = 0.0;
    if (n < ${u(N)} && kb < ${u(K)}) { bv = f32(bm[kb * ${u(N)} + n]); }
    Bs[lid.y * ${u(T)} + lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < ${u(T)}; k++) { acc = fma(As[lid.y * ${u(T)} + k], Bs[k * ${u(T)} + lid.x], acc); }
    workgroupBarrier();
  }
  if (m < ${u(M)} && n < ${u(N)}) { y[m * ${u(N)} + n] = ${c.elem}(acc); }
}
`;
  return {
    name: ctx.kernelName(what),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('lowrank', M, K, N, T, !!scale, bindings.map((x) => x.elem)),
    code,
    bindings,
    uniforms,
    dispatch,
  };
}

defineWgsl(LATHE_DOMAIN, 'LowRank', (ctx) => {
  const x = ctx.input(0)!;
  const l1 = ctx.input(1)!;
  const l2 = ctx.input(2)!;
  const inv = ctx.input(3);
  const y = ctx.output(0)!;
  const K = x.shape[x.shape.length - 1]!;
  const R = l1.shape[1]!;
  const N = l2.shape[1]!;
  const M = numElements(x.shape.slice(0, -1));
  if (M * N === 0) return [];
  if (R === 0) ctx.unsupported('rank 0');
  const t: KernelBinding = { value: `${ctx.node.name}/lowrank_down`, access: 'read_write', elem: 'f32', scratchBytes: Math.max(4, M * R * 4) };
  const down = lowRankGemm(
    ctx,
    'lowrank_down',
    M,
    K,
    R,
    { value: x.name, access: 'read', elem: floatElem(ctx, x) },
    inv && { value: inv.name, access: 'read', elem: floatElem(ctx, inv) },
    { value: l1.name, access: 'read', elem: floatElem(ctx, l1) },
    t,
  );
  const up = lowRankGemm(
    ctx,
    'lowrank_up',
    M,
    R,
    N,
    { value: t.value, access: 'read', elem: 'f32' }, // declared (scratchBytes) by the first kernel only
    undefined,
    { value: l2.name, access: 'read', elem: floatElem(ctx, l2) },
    { value: y.name, access: 'read_write', elem: floatElem(ctx, y) },
  );
  return [down, up];
});
