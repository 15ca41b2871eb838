// CumSum (forward, reverse, exclusive, on several axes and dtypes) and Einsum (matmul, batched,
// diagonal, transpose, outer product, implicit mode, three operands): kernels validated on the
// null backend and, on the adapter, equal to the interpreter.
import { test } from 'uvu';
import { makeTensor } from '../../ir/interp/tensor.ts';
import { checkOp, opCase, rng } from './ops-harness.ts';

const r = rng(17);
const axis = (a: number) => makeTensor('i64', [], BigInt64Array.of(BigInt(a)));

test('CumSum: axes, exclusive, reverse; f32 and i32', async () => {
  const x = r.f32([3, 4, 5]);
  const xi = r.int('i32', [4, 6], -50, 50);
  for (const a of [0, 1, 2, -1]) {
    for (const exclusive of [0, 1]) {
      for (const reverse of [0, 1]) {
        await checkOp(`cumsum f32 axis ${a} ex ${exclusive} rev ${reverse}`, opCase('CumSum', [x, axis(a)], { exclusive, reverse }, { consts: [1] }), 1e-5, 1e-5);
      }
    }
  }
  await checkOp('cumsum i32', opCase('CumSum', [xi, axis(1)], { reverse: 1 }, { consts: [1] }), 0, 0);
});

test('Einsum: matmul, batched, diagonal, transpose, outer, implicit, three operands', async () => {
  const a = r.f32([3, 4]);
  const b = r.f32([4, 5]);
  await checkOp('ij,jk->ik', opCase('Einsum', [a, b], { equation: 'ij,jk->ik' }), 1e-5, 1e-5);
  await checkOp('bij,bjk->bik', opCase('Einsum', [r.f32([2, 3, 4]), r.f32([2, 4, 5])], { equation: 'bij,bjk->bik' }), 1e-5, 1e-5);
  await checkOp('ii->i', opCase('Einsum', [r.f32([4, 4])], { equation: 'ii->i' }));
  await checkOp('ij->ji', opCase('Einsum', [a], { equation: 'ij->ji' }));
  await checkOp('i,j->ij', opCase('Einsum', [r.f32([3]), r.f32([5])], { equation: 'i,j->ij' }));
  await checkOp('implicit ij,jk', opCase('Einsum', [a, b], { equation: 'ij,jk' }), 1e-5, 1e-5);
  await checkOp('...ij,...jk->...ik', opCase('Einsum', [r.f32([2, 3, 4]), r.f32([4, 5])], { equation: '...ij,...jk->...ik' }), 1e-5, 1e-5);
  await checkOp('ij,jk,kl->il', opCase('Einsum', [a, b, r.f32([5, 2])], { equation: 'ij,jk,kl->il' }), 1e-5, 1e-5);
  await checkOp('ij->', opCase('Einsum', [a], { equation: 'ij->' }), 1e-5, 1e-5);
});

test.run();
