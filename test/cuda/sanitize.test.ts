// The op families under AddressSanitizer + UndefinedBehaviorSanitizer: one build of the generated
// CUDA with -fsanitize=address,undefined over cases from every family (elementwise with
// broadcasting, reductions, softmax, layer norm, tiled matmul with edge tiles,
// conv, a transpose through the shared tile, gather, pad, concat, attention), run in forward and
// random thread order. Buffers are exact-sized, so an out-of-bounds read or write of a kernel
// aborts the run (and the test); shared-memory indexing out of range is a UBSan error.
import { test } from 'uvu';
import { makeTensor } from '../../ir/interp/tensor.ts';
import { checkCuda, opCase, rng } from './helpers.ts';

const r = rng(99);
const i64 = (v: number[]) => makeTensor('i64', [v.length], BigInt64Array.from(v.map(BigInt)));

test('every op family is clean under ASan + UBSan', () => {
  const x = r.f32([3, 37]);
  checkCuda('sanitized', [
    opCase('Add', [x, r.f32([37])]),
    opCase('ReduceSum', [r.f32([5, 7, 9]), i64([1])], { keepdims: 0 }, { consts: [1] }),
    opCase('Softmax', [r.f32([4, 300])], { axis: -1 }),
    opCase('LayerNormalization', [r.f32([6, 33]), r.f32([33]), r.f32([33])], { axis: -1 }),
    opCase('MatMul', [r.f32([37, 45]), r.f32([45, 29])]),
    opCase('Conv', [r.f32([1, 3, 9, 11]), r.f32([4, 3, 3, 3])], { pads: [1, 1, 1, 1] }),
    opCase('Transpose', [r.f32([33, 47])], { perm: [1, 0] }),
    opCase('Gather', [r.f32([10, 6]), i64([3, -1, 0])], { axis: 0 }),
    opCase('Pad', [r.f32([3, 5]), i64([1, 2, 0, 1])], { mode: 'reflect' }, { consts: [1] }),
    opCase('Concat', [r.f32([2, 3]), r.f32([2, 5])], { axis: 1 }),
    opCase('Attention', [r.f32([1, 2, 17, 16]), r.f32([1, 2, 23, 16]), r.f32([1, 2, 23, 16])], { num_heads: 2, head_dim: 16, causal: 1 }, { domain: 'lathe' }),
  ], { sanitize: true, orders: ['forward', 'random'] });
});

test.run();
