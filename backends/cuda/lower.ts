// Lowering a specialized model into a CUDA program: the shared driver (../lower-core.ts) with
// CUDA's storage (every numeric dtype as itself), registry and 32-bit indexing limit, after the
// same graph pre-passes as WGSL (legacy broadcast made explicit; elementwise chains fused).
import type { Model } from '../../ir/graph.ts';
import type { BackendRules, CoreProgram, CoreTensor } from '../lower-core.ts';
import { lowerGraph } from '../lower-core.ts';
import { explicitLegacyBroadcast } from '../wgsl/legacy-broadcast.ts';
import { fuseElementwise } from '../wgsl/fuse.ts';
import { checkStatic } from '../wgsl/specialize.ts';
import type { CudaElem, CudaKernel } from './kernel.ts';
import { cudaElem, ELEM_BYTES } from './kernel.ts';
import type { CudaCaps } from './lowering.ts';
import { DEFAULT_CUDA_CAPS, lookupCuda, lookupCudaFold } from './lowering.ts';
import './ops/index.ts';

export type CudaTensor = CoreTensor<CudaElem>;
export type CudaProgram = CoreProgram<CudaKernel, CudaCaps, CudaElem>;

export interface CudaLowerOptions {
  readonly caps?: CudaCaps;
  readonly file?: string;
  /** See CoreOptions.foldLimit. Default 4096. */
  readonly foldLimit?: number;
  /** Group single-use elementwise chains into one kernel each. Default true. */
  readonly fuse?: boolean;
}

/** Kernels index with 32-bit integers: a buffer past 2^31 bytes is an error, not a wrong answer. */
export const MAX_CUDA_BUFFER_BYTES = 2 ** 31 - 1;

export function lowerCudaModel(model: Model, options: CudaLowerOptions = {}): CudaProgram {
  const caps = options.caps ?? DEFAULT_CUDA_CAPS;
  const numpyStyle = explicitLegacyBroadcast(model);
  const g = (options.fuse ?? true ? fuseElementwise(numpyStyle) : numpyStyle).graph;
  checkStatic(g, options.file);
  const rules: BackendRules<CudaKernel, CudaCaps, CudaElem> = {
    label: 'CUDA',
    storageElem: cudaElem,
    elemBytes: (e) => ELEM_BYTES[e],
    scratchDtype: (e) => (e === 'bool' ? 'bool' : e),
    lookupFold: lookupCudaFold,
    lookup: lookupCuda,
    maxBindingBytes: MAX_CUDA_BUFFER_BYTES,
    limitName: '32-bit indexing (2^31 bytes per buffer)',
    alignment: 256,
  };
  return lowerGraph(model, g, rules, { caps, file: options.file, foldLimit: options.foldLimit });
}
