// lathe.Attention as one flash-style kernel (docs/attention.md has the op's meaning): no
// seq_q × seq_k buffer exists. A workgroup takes BQ query rows of one (batch, head), one
// invocation per row, the row's q·scale held in registers (each row is read by one invocation
// only, so workgroup memory would add a copy and nothing else). K and V are streamed through
// workgroup memory in tiles of BKV rows, loaded by the whole workgroup; each invocation scores its
// row against the tile, takes the tile's maximum and rescales its running sum and V accumulator
// once per tile (online softmax). Masked scores are skipped, never turned into −∞ arithmetic, so
// a fully masked row ends with a zero normaliser and is written as zeros, as the reference does.
// With causal = 1 a workgroup stops at the last tile its bottom row can see.
import { LATHE_DOMAIN } from '../../../ir/graph.ts';
import type { Kernel, KernelBinding } from '../kernel.ts';
import { defineWgsl } from '../lowering.ts';
import { anyElem, bindingDecl, broadcastStrides, f, floatElem, keyOf, preamble, u } from './kernel-util.ts';

/** The largest power of two ≤ n (n ≥ 1). */
const floorPow2 = (n: number) => 2 ** Math.floor(Math.log2(n));

defineWgsl(LATHE_DOMAIN, 'Attention', (ctx) => {
  const q = ctx.input(0)!;
  const k = ctx.input(1)!;
  const v = ctx.input(2)!;
  const mask = ctx.input(3);
  const y = ctx.output(0)!;
  const [B, H, Sq, D] = q.shape as [number, number, number, number];
  const [, Hkv, Sk] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  const scale = ctx.float('scale', 1 / Math.sqrt(ctx.int('head_dim')));
  const causal = ctx.int('causal', 0) === 1;
  const group = H / Hkv;
  if (B * H * Sq * Dv === 0) return [];
  // One invocation per query row: as many rows as the device allows, but no more than needed.
  const BQ = Math.min(64, floorPow2(ctx.caps.maxWorkgroupInvocations), Math.max(8, 2 ** Math.ceil(Math.log2(Sq))));
  // K and V tiles share the workgroup memory: BKV rows of D + Dv floats.
  const BKV = Math.max(1, Math.min(32, Sk, Math.floor(ctx.caps.maxWorkgroupStorageBytes / (4 * (D + Dv)))));
  const elem = floatElem(ctx, y);
  const bindings: KernelBinding[] = [
    { value: q.name, access: 'read', elem: floatElem(ctx, q) },
    { value: k.name, access: 'read', elem: floatElem(ctx, k) },
    { value: v.name, access: 'read', elem: floatElem(ctx, v) },
    ...(mask ? [{ value: mask.name, access: 'read' as const, elem: mask.dtype === 'bool' ? anyElem(ctx, 'bool', 'the mask') : floatElem(ctx, mask) }] : []),
    { value: y.name, access: 'read_write', elem },
  ];
  const yIdx = bindings.length - 1;
  const ms = mask ? broadcastStrides(mask.shape, [B, H, Sq, Sk]) : [0, 0, 0, 0];
  const shift = Sk - Sq; // row i sees keys j ≤ i + shift (bottom-right causal)
  // How the mask enters a score: a bool keeps where true, a float is added (−∞ then skips it).
  const maskTerm = !mask
    ? ''
    : mask.dtype === 'bool'
      ? `if (mk[mRow + kj * ${u(ms[3]!)}] == 0) { continue; }`
      : `s += f32(mk[mRow + kj * ${u(ms[3]!)}]);
        if (s < ${f(-3.4028234663852886e38)}) { continue; }`;
  const code = `${preamble(bindings)}
${bindingDecl(0, 'qm', bindings[0]!)}
${bindingDecl(1, 'km', bindings[1]!)}
${bindingDecl(2, 'vm', bindings[2]!)}
${mask ? bindingDecl(3, 'mk', bindings[3]!) : ''}
${bindingDecl(yIdx, 'y', bindings[yIdx]!)}

var<workgroup> Kt: array<f32, ${BKV * D}>;
var<workgroup> Vt: array<f32, ${BKV * Dv}>;

@compute @workgroup_size(${BQ})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = wid.z;
  let h = wid.y;
  let kvh = h / ${u(group)};
  let i = wid.x * ${u(BQ)} + li;
  let live = i < ${u(Sq)};
  let qBase = ((b * ${u(H)} + h) * ${u(Sq)} + i) * ${u(D)};
  let kBase = (b * ${u(Hkv)} + kvh) * ${u(Sk * D)};
  let vBase = (b * ${u(Hkv)} + kvh) * ${u(Sk * Dv)};
  let mRow = b * ${u(ms[0]!)} + h * ${u(ms[1]!)} + i * ${u(ms[2]!)};
  var qr: array<f32, ${D}>;
  if (live) { for (var c = 0u; c < ${u(D)}; c++) { qr[c] = f32(qm[qBase + c]) * ${f(scale)}; } }
  var acc: array<f32, ${Dv}>;
  var sc: array<f32, ${BKV}>;
  var ok: array<bool, ${BKV}>;
  var mx = ${f(-3.4028234663852886e38)};
  var l = 0.0;
  // Tiles to visit: all, or (causal) up to the one holding the workgroup's last visible key.
  var tiles = ${u(Math.ceil(Sk / BKV))};
  ${
    causal
      ? `let lastRow = i32(min(wid.x * ${u(BQ)} + ${u(BQ - 1)}, ${u(Sq - 1)}));
  let lastKey = lastRow + ${shift};
  tiles = select(0u, min(tiles, u32(lastKey / ${BKV}) + 1u), lastKey >= 0);`
      : ''
  }
  for (var t = 0u; t < tiles; t++) {
    let kv0 = t * ${u(BKV)};
    workgroupBarrier();
    for (var e = li; e < ${u(BKV * D)}; e += ${u(BQ)}) {
      let j = kv0 + e / ${u(D)};
      Kt[e] = 0.0;
      if (j < ${u(Sk)}) { Kt[e] = f32(km[kBase + j * ${u(D)} + e % ${u(D)}]); }
    }
    for (var e = li; e < ${u(BKV * Dv)}; e += ${u(BQ)}) {
      let j = kv0 + e / ${u(Dv)};
      Vt[e] = 0.0;
      if (j < ${u(Sk)}) { Vt[e] = f32(vm[vBase + j * ${u(Dv)} + e % ${u(Dv)}]); }
    }
    workgroupBarrier();
    // Rows past seq_q still load tiles and meet the barriers; they only skip the arithmetic.
    if (live) {
      var tmax = mx;
      for (var jj = 0u; jj < ${u(BKV)}; jj++) {
        ok[jj] = false;
        let kj = kv0 + jj;
        if (kj >= ${u(Sk)}) { continue; }
        ${causal ? `if (i32(kj) > i32(i) + ${shift}) { continue; }` : ''}
        var s = 0.0;
        for (var c = 0u; c < ${u(D)}; c++) { s = fma(qr[c], Kt[jj * ${u(D)} + c], s); }
        ${maskTerm}
        ok[jj] = true;
        sc[jj] = s;
        tmax = max(tmax, s);
      }
      // Rescale what was summed under the old maximum (nothing yet: l = 0, no exp of −huge), then
      // add this tile's rows of V.
      let corr = select(1.0, exp(mx - tmax), l > 0.0);
      mx = tmax;
      l *= corr;
      for (var c = 0u; c < ${u(Dv)}; c++) { acc[c] *= corr; }
      for (var jj = 0u; jj < ${u(BKV)}; jj++) {
        if (!ok[jj]) { continue; }
        let p = exp(sc[jj] - mx);
        l += p;
        for (var c = 0u; c < ${u(Dv)}; c++) { acc[c] = fma(p, Vt[jj * ${u(Dv)} + c], acc[c]); }
      }
    }
  }
  if (!live) { return; }
  let oBase = ((b * ${u(H)} + h) * ${u(Sq)} + i) * ${u(Dv)};
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var c = 0u; c < ${u(Dv)}; c++) { y[oBase + c] = ${elem}(acc[c] * inv); }
}
`;
  const kernel: Kernel = {
    name: ctx.kernelName('flash_attention'),
    node: ctx.node.name,
    op: ctx.node.op,
    key: keyOf('attention', q.shape, k.shape, v.shape, mask?.shape, mask?.dtype, ms, scale, causal, BQ, BKV, bindings.map((x) => x.elem)),
    code,
    bindings,
    uniforms: [],
    dispatch: [Math.ceil(Sq / BQ), H, B],
  };
  return [kernel];
});
