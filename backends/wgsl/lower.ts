// Lowering a specialized model (every shape static) into a WGSL Program: the kernels in order,
// the values they touch with their storage types, the constants to upload, the aliases (results
// that are an operand's bytes seen with another shape) and the buffer plan. The walk over the
// graph is the backends' shared driver (../lower-core.ts); this file gives it WGSL's storage
// types, registry and limits, after the WGSL pre-passes (legacy broadcast, elementwise fusion, epilogue fusion).
import type { DType } from '../../ir/dtype.ts';
import type { Model } from '../../ir/graph.ts';
import type { BackendRules, CoreProgram, CoreTensor } from '../lower-core.ts';
import { lowerGraph } from '../lower-core.ts';
import type { Kernel, KernelBinding } from './kernel.ts';
import { storageElem } from './kernel.ts';
import type { DeviceCaps } from './lowering.ts';
import { lookupWgsl, lookupWgslFold } from './lowering.ts';
import { checkStatic } from './specialize.ts';
import './ops/index.ts';
import { fuseElementwise } from './fuse.ts';
import { fuseEpilogues } from './fuse-epilogue.ts';
import { explicitLegacyBroadcast } from './legacy-broadcast.ts';
import { packedU8Values, withPackedBytes } from './ops/svdquant.ts';

export { rootOf } from '../lower-core.ts';

/** A tensor value as the program stores it (elem: see storageElem: i64 → i32, bool → i32, f16 → f32 without shader-f16). */
export type ProgramTensor = CoreTensor<KernelBinding['elem']>;

export type Program = CoreProgram<Kernel, DeviceCaps, KernelBinding['elem']>;

export interface LowerOptions {
  readonly caps: DeviceCaps;
  readonly file?: string;
  /**
   * Evaluate a node whose operands are all constants and whose results are small (at most this
   * many elements) with the reference interpreter while compiling, and upload its results as
   * constants. Default 4096; 0 turns it off. Random ops are never folded.
   */
  readonly foldLimit?: number;
  /**
   * Group single-use elementwise chains into one kernel each (fuse.ts), then fold a chain that
   * consumes a MatMul/Gemm/Conv result into that kernel's store (fuse-epilogue.ts). Default true.
   */
  readonly fuse?: boolean;
}

const ELEM_BYTES = { f32: 4, f16: 2, i32: 4, u32: 4 } as const;

function wgslRules(caps: DeviceCaps, packedU8: ReadonlySet<string>): BackendRules<Kernel, DeviceCaps, KernelBinding['elem']> {
  return {
    label: 'WGSL',
    storageElem: (dtype: DType) => storageElem(dtype, caps.f16),
    elemBytes: (e) => ELEM_BYTES[e],
    // 4-bit codes only the SVDQuant kernels touch: four bytes to a u32 word (ops/svdquant.ts).
    valueStorage: (name, dtype, n) => (dtype === 'u8' && packedU8.has(name) ? { elem: 'u32', bytes: Math.ceil(n / 4) * 4 } : undefined),
    scratchDtype: (e) => e,
    lookupFold: lookupWgslFold,
    lookup: lookupWgsl,
    maxBindingBytes: caps.maxStorageBufferBindingBytes,
    limitName: 'maxStorageBufferBindingSize',
  };
}

export function lowerModel(model: Model, options: LowerOptions): Program {
  const numpyStyle = explicitLegacyBroadcast(model);
  const g = (options.fuse ?? true ? fuseEpilogues(fuseElementwise(numpyStyle)) : numpyStyle).graph;
  checkStatic(g, options.file);
  const packed = packedU8Values(g);
  return withPackedBytes(packed, () => lowerGraph(model, g, wgslRules(options.caps, packed), options));
}

/** A short human summary: kernels, buffers, bytes. */
export function describeProgram(p: Program): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  return `${p.kernels.length} kernels, ${p.plan.buffers.length} buffers (${mib(p.plan.totalBytes)}; peak live ${mib(p.plan.peakLiveBytes)}), ${p.constants.length} constants, ${p.aliases.size} aliases`;
}
