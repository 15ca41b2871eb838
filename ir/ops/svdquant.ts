// The SVDQuant ops (docs/svdquant.md has their exact meaning):
//   lathe.Quantize4(X, inv_smooth?) → (QX, SX)     {format, group, signed}
//   lathe.Linear4(QX, SX, QW, SW, bias?) → Y        {format, group, signed, weight_scale}
//   lathe.LowRank(X, L1, L2, inv_smooth?) → Y
// Shapes: X [..., K]; QX [..., Kp/2] u8; SX [..., Kp/group] f32; QW [N, Kp/2] u8; SW [N, Kp/group]
// f16 (int4) or u8 E4M3 codes (nvfp4); L1 [K, r] f16; L2 [r, N] f16; Y [..., N] f32. Kp is K
// rounded up to whole groups (the padding codes are 0).
import { LATHE_DOMAIN } from '../graph.ts';
import type { InferContext } from '../op.ts';
import { between, defineOp, exactly } from '../op.ts';
import { QUANT4_FORMATS } from '../quant4.ts';
import { tensor } from '../types.ts';
import { attr, expectDType } from './util.ts';
import { fmt, shapeOf, unifyDim } from './nn-util.ts';

interface Quant4Attrs {
  format: 'int4' | 'nvfp4';
  group: number;
  signed: boolean;
}

/** The format, group and signedness attributes, checked (group: a multiple of 8; nvfp4: 16). */
export function quant4Attrs(ctx: { string(n: string, d?: string): string; int(n: string, d?: number): number; fail(m: string): never }): Quant4Attrs {
  const format = ctx.string('format', 'int4');
  if (!(QUANT4_FORMATS as readonly string[]).includes(format)) ctx.fail(`format must be 'int4' or 'nvfp4', got '${format}'`);
  const group = ctx.int('group', format === 'nvfp4' ? 16 : 64);
  if (format === 'nvfp4' && group !== 16) ctx.fail(`nvfp4 quantizes in groups of 16, got group ${group}`);
  if (!Number.isInteger(group) || group < 8 || group % 8 !== 0) ctx.fail(`group must be a positive multiple of 8, got ${group}`);
  const signed = ctx.int('signed', 1);
  if (signed !== 0 && signed !== 1) ctx.fail(`signed must be 0 or 1, got ${signed}`);
  if (format === 'nvfp4' && signed === 0) ctx.fail('nvfp4 codes are always signed (signed = 0 is for int4)');
  return { format: format as Quant4Attrs['format'], group, signed: signed === 1 };
}

const QUANT_ATTRS = { format: attr.string, group: attr.int, signed: attr.int };

defineOp({
  domain: LATHE_DOMAIN,
  name: 'Quantize4',
  summary: 'dynamic 4-bit activation quantization per token and group (INT4 or NVFP4), after 1/λ smoothing',
  inputs: between(1, 2),
  outputs: exactly(2),
  attrs: QUANT_ATTRS,
  infer(ctx) {
    const { group } = quant4Attrs(ctx);
    const x = shapeOf(ctx, expectDType(ctx, 0, ['f32']), 'X');
    if (x.length < 1) ctx.fail('X must have at least one axis');
    const k = x[x.length - 1]!;
    if (ctx.has(1)) {
      const s = shapeOf(ctx, expectDType(ctx, 1, ['f32']), 'inv_smooth');
      if (s.length !== 1) ctx.fail(`inv_smooth must be [K], got ${fmt(s)}`);
      unifyDim(ctx, s[0]!, k, `inv_smooth ${fmt(s)} and X's channels`);
    }
    const lead = x.slice(0, -1);
    const groups = typeof k === 'number' ? Math.ceil(k / group) : null;
    return [tensor('u8', [...lead, groups === null ? null : groups * (group / 2)]), tensor('f32', [...lead, groups])];
  },
});

defineOp({
  domain: LATHE_DOMAIN,
  name: 'Linear4',
  summary: 'W4A4 linear layer: Σ over groups of (integer code dot product) · activation scale · weight scale, + bias',
  inputs: between(4, 5),
  outputs: exactly(1),
  attrs: { ...QUANT_ATTRS, weight_scale: attr.float },
  infer(ctx) {
    const { format, group } = quant4Attrs(ctx);
    const ws = ctx.float('weight_scale', 1);
    if (!(ws > 0) || !Number.isFinite(ws)) ctx.fail(`weight_scale must be a positive finite number, got ${ws}`);
    const qx = shapeOf(ctx, expectDType(ctx, 0, ['u8']), 'QX');
    const sx = shapeOf(ctx, expectDType(ctx, 1, ['f32']), 'SX');
    const qw = shapeOf(ctx, expectDType(ctx, 2, ['u8']), 'QW');
    const sw = shapeOf(ctx, expectDType(ctx, 3, [format === 'int4' ? 'f16' : 'u8']), 'SW');
    if (qx.length < 1 || sx.length !== qx.length) ctx.fail(`QX ${fmt(qx)} and SX ${fmt(sx)} must have the same rank (≥ 1)`);
    if (qw.length !== 2 || sw.length !== 2) ctx.fail(`QW ${fmt(qw)} and SW ${fmt(sw)} must be 2-D [N, ·]`);
    const lead = qx.slice(0, -1).map((d, i) => unifyDim(ctx, d, sx[i]!, `leading axes of QX ${fmt(qx)} and SX ${fmt(sx)}`));
    const halfK = unifyDim(ctx, qx[qx.length - 1]!, qw[1]!, `QX ${fmt(qx)} and QW ${fmt(qw)} (K/2)`);
    const groups = unifyDim(ctx, sx[sx.length - 1]!, sw[1]!, `SX ${fmt(sx)} and SW ${fmt(sw)} (K/group)`);
    if (typeof halfK === 'number' && typeof groups === 'number' && halfK * 2 !== groups * group) {
      ctx.fail(`K = ${halfK * 2} (from QX) is not ${groups} groups of ${group}`);
    }
    const n = unifyDim(ctx, qw[0]!, sw[0]!, `QW ${fmt(qw)} and SW ${fmt(sw)} (N)`);
    if (ctx.has(4)) {
      const b = shapeOf(ctx, expectDType(ctx, 4, ['f32']), 'bias');
      if (b.length !== 1) ctx.fail(`bias must be [N], got ${fmt(b)}`);
      unifyDim(ctx, b[0]!, n, `bias ${fmt(b)} and N`);
    }
    return [tensor('f32', [...lead, n])];
  },
});

defineOp({
  domain: LATHE_DOMAIN,
  name: 'LowRank',
  summary: "SVDQuant's low-rank branch ((X ⊙ inv_smooth) · L1) · L2 with 16-bit factors, in f32",
  inputs: between(3, 4),
  outputs: exactly(1),
  attrs: {},
  infer(ctx) {
    const x = shapeOf(ctx, expectDType(ctx, 0, ['f32']), 'X');
    const l1 = shapeOf(ctx, expectDType(ctx, 1, ['f16']), 'L1');
    const l2 = shapeOf(ctx, expectDType(ctx, 2, ['f16']), 'L2');
    if (x.length < 1) ctx.fail('X must have at least one axis');
    if (l1.length !== 2 || l2.length !== 2) ctx.fail(`L1 ${fmt(l1)} and L2 ${fmt(l2)} must be 2-D`);
    const k = unifyDim(ctx, x[x.length - 1]!, l1[0]!, `X ${fmt(x)} and L1 ${fmt(l1)} (K)`);
    unifyDim(ctx, l1[1]!, l2[0]!, `L1 ${fmt(l1)} and L2 ${fmt(l2)} (rank)`);
    if (ctx.has(3)) {
      const s = shapeOf(ctx, expectDType(ctx, 3, ['f32']), 'inv_smooth');
      if (s.length !== 1) ctx.fail(`inv_smooth must be [K], got ${fmt(s)}`);
      unifyDim(ctx, s[0]!, k, `inv_smooth ${fmt(s)} and K`);
    }
    return [tensor('f32', [...x.slice(0, -1), l2[1]!])];
  },
});
