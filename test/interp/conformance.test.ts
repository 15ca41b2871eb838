// The interpreter against the ONNX conformance data (node, pytorch-converted, pytorch-operator,
// simple) and the committed model fixtures: every case whose ops are all core evaluators (the
// families below) must pass, except the listed cases whose test data is itself wrong.
// Skipped where the data is not installed (apt-get install libonnx-testdata).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFORMANCE_DIR, conformanceCases, runConformanceCase } from '../../ir/interp/conformance.ts';

const CORE_OPS = new Set(
  `Add Sub Mul Div Pow Mod BitShift And Or Xor Not Equal Greater Less GreaterOrEqual LessOrEqual Abs Neg Sign Relu
  Sigmoid Tanh Exp Log Sqrt Reciprocal Floor Ceil Round Erf Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh
  Softsign Softplus Elu Selu Celu LeakyRelu PRelu HardSigmoid HardSwish ThresholdedRelu Shrink Gelu Mish IsNaN IsInf
  Clip Where Sum Max Min Mean Cast CastLike Identity MatMul Gemm Conv ConvTranspose MaxPool AveragePool LpPool
  GlobalAveragePool GlobalMaxPool GlobalLpPool ReduceSum ReduceMean ReduceProd ReduceMax ReduceMin ReduceL1 ReduceL2
  ReduceSumSquare ReduceLogSum ReduceLogSumExp ArgMax ArgMin Softmax LogSoftmax Hardmax LayerNormalization
  BatchNormalization InstanceNormalization MeanVarianceNormalization Reshape Shape Size Flatten Squeeze Unsqueeze
  Transpose Concat Split Slice Gather GatherElements GatherND Expand Tile Pad Constant ConstantOfShape Range If Loop
  Scan`.split(/\s+/),
);

/** Cases whose test data contradicts the model (ONNX Runtime refuses them too). */
const BAD_DATA = new Set([
  // `like` is declared [3, 4] but the data has one element.
  'test_castlike_BFLOAT16_to_FLOAT', 'test_castlike_BFLOAT16_to_FLOAT_expanded',
  'test_castlike_FLOAT_to_BFLOAT16', 'test_castlike_FLOAT_to_BFLOAT16_expanded',
]);

const root = path.dirname(CONFORMANCE_DIR);
const folders = [CONFORMANCE_DIR, ...['pytorch-converted', 'pytorch-operator', 'simple'].map((d) => path.join(root, d)), fileURLToPath(new URL('../../fixtures', import.meta.url))];

test('every conformance case made of core ops passes', () => {
  const cases = folders.flatMap((f) => conformanceCases(f));
  if (cases.length === 0) {
    console.log('  (ONNX conformance data not installed; skipped)');
    return;
  }
  const counts = { pass: 0, fail: 0, skip: 0, core: 0 };
  const failures: string[] = [];
  for (const dir of cases) {
    const name = path.basename(dir);
    const r = runConformanceCase(dir);
    counts[r.status]++;
    const core = r.ops !== undefined && r.ops.every((op) => op.startsWith('onnx.') && CORE_OPS.has(op.slice(5)));
    if (!core) continue;
    counts.core++;
    // The runner reads TensorProto files only; cases fed sequences/optionals are not its to judge.
    const unreadable = r.status === 'skip' && r.reason.startsWith('sequence/optional');
    if (r.status !== 'pass' && !unreadable && !BAD_DATA.has(name)) failures.push(`${name}: ${r.status} ${r.reason}`);
  }
  console.log(`  conformance: ${counts.pass} pass, ${counts.fail} fail, ${counts.skip} skip of ${cases.length}; ${counts.core} cases use only core ops`);
  assert.equal(failures, []);
  assert.ok(counts.core > 600, `only ${counts.core} core cases found`);
});

test.run();
