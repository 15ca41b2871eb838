// Host-side plans of GridSample and RoiAlign shared by the WGSL and CUDA lowerings
// (backends/*/ops/grid-sample.ts): shape checks and attribute parsing (GridSample's opset-16 and
// opset-20 mode names folded to one), so both backends accept the same nodes. No kernel text here.
import { numElements } from '../../ir/types.ts';
import type { CoreContext, StaticTensor } from '../lower-core.ts';

export interface GridSamplePlan {
  /** Spatial rank. */
  r: number;
  /** X's spatial dims. */
  spatial: number[];
  mode: 'nearest' | 'linear' | 'cubic';
  padding: 'zeros' | 'border' | 'reflection';
  align: boolean;
  /** Taps per spatial dim: 1 nearest, 2 linear, 4 cubic. */
  nt: number;
  /** Channels, and result positions per (batch, channel). */
  C: number;
  P: number;
}

export function gridSamplePlan(ctx: CoreContext<unknown>, x: StaticTensor, grid: StaticTensor): GridSamplePlan {
  const r = x.shape.length - 2;
  const spatial = x.shape.slice(2);
  const outSpatial = grid.shape.slice(1, -1);
  if (r < 1 || grid.shape[0] !== x.shape[0] || grid.shape[grid.shape.length - 1] !== r || outSpatial.length !== r) {
    return ctx.unsupported(`grid [${grid.shape.join(', ')}] does not fit X [${x.shape.join(', ')}]`);
  }
  // Opset 20 renamed bilinear / bicubic to linear / cubic (and made linear the default).
  const modeName = ctx.string('mode', ctx.opset < 20 ? 'bilinear' : 'linear');
  const mode = modeName === 'bilinear' || modeName === 'linear' ? 'linear' : modeName === 'bicubic' || modeName === 'cubic' ? 'cubic' : modeName === 'nearest' ? 'nearest' : ctx.unsupported(`unknown GridSample mode '${modeName}'`);
  const padding = ctx.string('padding_mode', 'zeros');
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection') return ctx.unsupported(`unknown padding_mode '${padding}'`);
  const align = ctx.int('align_corners', 0) !== 0;
  const nt = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
  return { r, spatial, mode, padding, align, nt, C: x.shape[1]!, P: numElements(outSpatial) };
}

export interface RoiAlignParams {
  oh: number;
  ow: number;
  /** Samples per bin side; 0 picks ceil(bin size) per ROI. */
  ratio: number;
  maxMode: boolean;
  /** coordinate_transformation_mode half_pixel (opset 16 on; opset 10 is output_half_pixel). */
  halfPixel: boolean;
  spatialScale: number;
}

export function roiAlignParams(ctx: CoreContext<unknown>): RoiAlignParams {
  return {
    oh: ctx.int('output_height', 1),
    ow: ctx.int('output_width', 1),
    ratio: ctx.int('sampling_ratio', 0),
    maxMode: ctx.string('mode', 'avg') === 'max',
    halfPixel: ctx.opset >= 16 && ctx.string('coordinate_transformation_mode', 'half_pixel') === 'half_pixel',
    spatialScale: ctx.float('spatial_scale', 1),
  };
}
