// Evaluators for the SVDQuant ops (ir/ops/svdquant.ts, docs/svdquant.md). The quantization is
// ir/quant4.ts, the same arithmetic the kernels do, so codes and scales here are the kernels'.
import { LATHE_DOMAIN } from '../../graph.ts';
import { quant4Attrs } from '../../ops/svdquant.ts';
import { linear4, paddedK, quantizeActivations } from '../../quant4.ts';
import { numElements } from '../../types.ts';
import { defineEval } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { makeTensor, toF64 } from '../tensor.ts';

const f32Data = (t: Tensor): Float32Array => (t.data instanceof Float32Array ? t.data : Float32Array.from(toF64(t)));

defineEval(LATHE_DOMAIN, 'Quantize4', (ctx) => {
  const spec = quant4Attrs(ctx);
  const x = ctx.tensor(0);
  const K = x.shape[x.shape.length - 1]!;
  const rows = numElements(x.shape.slice(0, -1));
  const inv = ctx.optTensor(1);
  const { q, s } = quantizeActivations(f32Data(x), rows, K, spec, inv && f32Data(inv));
  const lead = x.shape.slice(0, -1);
  const Kp = paddedK(K, spec.group);
  return [makeTensor('u8', [...lead, Kp / 2], q), makeTensor('f32', [...lead, Kp / spec.group], s)];
});

defineEval(LATHE_DOMAIN, 'Linear4', (ctx) => {
  const spec = quant4Attrs(ctx);
  const [qx, sx, qw, sw] = [0, 1, 2, 3].map((i) => ctx.tensor(i));
  const bias = ctx.optTensor(4);
  const K = qx!.shape[qx!.shape.length - 1]! * 2;
  const N = qw!.shape[0]!;
  const rows = numElements(qx!.shape.slice(0, -1));
  const y = linear4(
    { qx: qx!.data as Uint8Array, sx: f32Data(sx!), qw: qw!.data as Uint8Array, sw: sw!.data as ArrayLike<number>, bias: bias && f32Data(bias), weightScale: ctx.float('weight_scale', 1) },
    rows, K, N, spec,
  );
  return [makeTensor('f32', [...qx!.shape.slice(0, -1), N], y)];
});

defineEval(LATHE_DOMAIN, 'LowRank', (ctx) => {
  const x = ctx.tensor(0);
  const l1 = f32Data(ctx.tensor(1));
  const l2 = f32Data(ctx.tensor(2));
  const inv = ctx.optTensor(3);
  const invS = inv && f32Data(inv);
  const K = x.shape[x.shape.length - 1]!;
  const R = ctx.tensor(1).shape[1]!;
  const N = ctx.tensor(2).shape[1]!;
  const rows = numElements(x.shape.slice(0, -1));
  const xd = f32Data(x);
  const y = new Float32Array(rows * N);
  const t = new Float64Array(R);
  for (let m = 0; m < rows; m++) {
    t.fill(0);
    for (let k = 0; k < K; k++) {
      const v = invS ? Math.fround(xd[m * K + k]! * invS[k]!) : xd[m * K + k]!;
      if (v === 0) continue;
      for (let r = 0; r < R; r++) t[r] += v * l1[k * R + r]!;
    }
    const row = new Float64Array(N);
    for (let r = 0; r < R; r++) {
      const tr = Math.fround(t[r]!);
      for (let n = 0; n < N; n++) row[n] += tr * l2[r * N + n]!;
    }
    for (let n = 0; n < N; n++) y[m * N + n] = row[n]!;
  }
  return [makeTensor('f32', [...x.shape.slice(0, -1), N], y)];
});
