// A 1024² f32 MatMul on the software adapter: lathe's tiled GEMM kernel (the kernel alone:
// submit to done, inputs already on the device) against ONNX Runtime's WebGPU provider (session
// run, which includes its upload and read-back), both in this process on the same adapter, runs
// alternating so drift in the machine's load hits both alike. Prints best-of-N for each.
//
//   node --import tsx bench/wgsl-matmul-1024.ts [N=3]
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../ir/builder.ts';
import { exportOnnx } from '../ir/onnx/export.ts';
import { prepareEnvironment } from '../backends/wgsl/gpu.ts';
import { oneNode, randomTensor, reference, relError, runOnAdapter } from '../test/wgsl/kernel-harness.ts';
import { makeTensor } from '../ir/interp/tensor.ts';

prepareEnvironment();
const n = Number(process.argv[2] ?? 3);
const S = 1024;
const a = randomTensor([S, S], 1);
const b = randomTensor([S, S], 2);
const c = oneNode('MatMul', [a, b]);

const g = new GraphBuilder('mm');
g.input('a', { kind: 'tensor', dtype: 'f32', shape: [S, S] });
g.input('b', { kind: 'tensor', dtype: 'f32', shape: [S, S] });
const session = await ort.InferenceSession.create(exportOnnx(g.returns(g.op('MatMul', ['a', 'b'])).model()), { executionProviders: ['webgpu'] });
const feeds = { a: new ort.Tensor('float32', a.data as Float32Array, [S, S]), b: new ort.Tensor('float32', b.data as Float32Array, [S, S]) };

let lathe = Infinity;
let ortMs = Infinity;
let ortOut: Float32Array | undefined;
for (let i = 0; i < n + 1; i++) {
  const r = await runOnAdapter(c, 1);
  if (!r) throw new Error('no adapter (run scripts/setup-webgpu.sh)');
  if (i > 0) lathe = Math.min(lathe, r.ms); // the first run includes lavapipe's shader compile
  const t0 = performance.now();
  const out = await session.run(feeds);
  const dt = performance.now() - t0;
  if (i > 0) ortMs = Math.min(ortMs, dt);
  ortOut = (Object.values(out)[0] as ort.Tensor).data as Float32Array;
  if (i === 0) console.log(`lathe vs interpreter: rel ${relError(r.y, reference(c)).toExponential(2)}`);
}
const want = reference(c);
console.log(`ORT vs interpreter: rel ${relError(makeTensor('f32', [S, S], ortOut!), want).toExponential(2)}`);
console.log(`1024² MatMul, best of ${n}: lathe ${lathe.toFixed(1)} ms, ORT WebGPU ${ortMs.toFixed(1)} ms (lathe/ORT ${(lathe / ortMs).toFixed(2)}×)`);
process.exit(0);
