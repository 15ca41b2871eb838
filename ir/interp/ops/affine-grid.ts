// AffineGrid (opset 20): the sampling grid of an affine transform, for GridSample. Each output
// point is θ · [x, y, (z,) 1], where x runs along W, y along H and z along D over [-1, 1]: pixel
// corners with align_corners=1, pixel centers ((2i + 1)/L − 1) otherwise.
import { defineOnnxEvals } from '../registry.ts';
import { allocData, makeTensor, roundTo, toF64 } from '../tensor.ts';
import { intsOf } from './util.ts';

/** The L normalized coordinates of one spatial dim. */
function axisCoords(L: number, alignCorners: boolean): Float64Array {
  const c = new Float64Array(L);
  for (let i = 0; i < L; i++) c[i] = alignCorners ? (L === 1 ? -1 : -1 + (2 * i) / (L - 1)) : (2 * i + 1) / L - 1;
  return c;
}

defineOnnxEvals(['AffineGrid'], (ctx) => {
  const thetaT = ctx.tensor(0);
  const size = intsOf(ctx.tensor(1));
  const align = ctx.int('align_corners', 0) === 1;
  // size is [N, C, H, W] (2-D, θ is [N, 2, 3]) or [N, C, D, H, W] (3-D, θ is [N, 3, 4]).
  const spatial = size.slice(2);
  const r = spatial.length;
  const N = size[0]!;
  if ((r !== 2 && r !== 3) || thetaT.shape.join() !== [N, r, r + 1].join()) {
    ctx.fail(`theta [${thetaT.shape.join(', ')}] does not fit size [${size.join(', ')}]`);
  }
  const theta = toF64(thetaT);
  // Coordinates in x, y, z order: x along the last dim.
  const coords = [...spatial].reverse().map((L) => axisCoords(L, align));
  const points = spatial.reduce((a, b) => a * b, 1);
  const out = allocData(thetaT.dtype, N * points * r) as Float32Array | Float64Array;
  const p = new Float64Array(r + 1);
  p[r] = 1;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < points; k++) {
      // Split the flat point index into its spatial coordinates (last dim fastest = x).
      let rest = k;
      for (let d = 0; d < r; d++) {
        const L = spatial[r - 1 - d]!;
        p[d] = coords[d]![rest % L]!;
        rest = Math.floor(rest / L);
      }
      for (let row = 0; row < r; row++) {
        let s = 0;
        for (let j = 0; j <= r; j++) s += theta[(n * r + row) * (r + 1) + j]! * p[j]!;
        out[(n * points + k) * r + row] = s;
      }
    }
  }
  return [roundTo(makeTensor(thetaT.dtype, [N, ...spatial, r], out))];
});
