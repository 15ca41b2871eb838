// fuse-attention on whole models: how many attentions it fuses in the exported fixtures, that
// the reference interpreter gives the same outputs before and after (max|a − b| / max|b| ≤ 1e-5),
// on the fixtures and on hand-built graphs for each form the matcher knows, and that values used
// outside an attention survive. Structure (what the graph looks like after) is in
// golden/fuse-attention.lir.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outputError } from '../../compiler/ort-reference.ts';
import { randomInputs } from '../../compiler/random-inputs.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { readTensorPb } from '../../ir/interp/pb.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { tensorFrom, toConst } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { verifyModel } from '../../ir/verify.ts';
import { fuseAttention, fuseAttentionModel, formatReport } from '../../passes/fuse-attention.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const TOLERANCE = 1e-5;

const attentionNodes = (m: Model) => m.graph.nodes.filter((n) => n.domain === 'lathe' && n.op === 'Attention');

/** The interpreter's outputs before and after the pass agree; returns the fused model. */
function sameOutputs(before: Model, inputs: Tensor[] | Map<string, Tensor>): Model {
  const { model: after } = fuseAttentionModel(before);
  verifyModel(after);
  const want = runModel(before, inputs);
  const got = runModel(after, inputs);
  got.forEach((g, i) => {
    const e = outputError(before.graph.outputs[i]!, g, want[i] as Tensor, TOLERANCE);
    assert.ok(e.ok, `output ${i}: ${e.problem ?? `rel ${e.rel}, ${e.mismatches} NaN mismatches`}`);
  });
  return after;
}

for (const [name, count, causal] of [['gpt2-tiny', 2, true], ['vit-tiny', 2, false], ['dit-block', 1, false]] as const) {
  test(`${name}: ${count} attention${count > 1 ? 's' : ''} fused, same outputs`, () => {
    const dir = join(FIXTURES, name);
    const model = importOnnxFile(join(dir, 'model.onnx'));
    const data = join(dir, 'test_data_set_0');
    const inputs = readdirSync(data).filter((f) => f.startsWith('input_')).sort().map((f) => readTensorPb(join(data, f)).tensor);
    const after = sameOutputs(model, inputs);
    const fused = attentionNodes(after);
    assert.is(fused.length, count);
    for (const n of fused) {
      assert.equal(n.attrs.num_heads, { kind: 'int', value: 4 });
      assert.equal(n.attrs.head_dim, { kind: 'int', value: 16 });
      assert.equal(n.attrs.scale, { kind: 'float', value: 0.25 });
      assert.equal(n.attrs.causal?.value ?? 0, causal ? 1 : 0);
      assert.is(n.inputs.length, 3); // causal needs no mask operand
    }
    assert.not.ok(after.graph.nodes.some((n) => n.op === 'Softmax'));
  });
}

test('runs from pipeline text through the pass manager', () => {
  const model = importOnnxFile(join(FIXTURES, 'gpt2-tiny', 'model.onnx'));
  const { model: after, records } = runPipeline(model, parsePipeline('fuse-attention'), { out: () => {} });
  assert.is(attentionNodes(after).length, 2);
  assert.ok(records[0]!.changed);
  assert.is(after.opsets.lathe, 1);
});

test('a model without attention comes back as the same object', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', tensor('f32', [2, 3]));
  const model = b.returns(b.op('Softmax', [b.op('Relu', [x])], { axis: 0 })).model();
  assert.is(fuseAttention.run(model, { options: { report: false }, analysis: (a) => a.compute(model) }), model);
});

// ---- hand-built forms, each checked numerically ----

const rand = (shape: number[], seed: number) => randomInputs(oneInput(shape), { seed }).get('x')!;
function oneInput(shape: number[]): Model {
  const b = new GraphBuilder('g');
  return b.returns(b.input('x', tensor('f32', shape))).model();
}

/** Softmax(scale·Q·Kᵀ + …)·V on [b, h, s, d] inputs, with `between` applied to the scores. */
function bhsd(shape: number[], between: (b: GraphBuilder, scores: string) => string, kShape = shape): Model {
  const b = new GraphBuilder('g');
  const [q, k, v] = [b.input('q', tensor('f32', shape)), b.input('k', tensor('f32', kShape)), b.input('v', tensor('f32', kShape))];
  const qk = b.op('MatMul', [q, b.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  return b.returns(b.op('MatMul', [b.op('Softmax', [between(b, qk)], { axis: -1 }), v])).model();
}
const inputsFor = (m: Model) => randomInputs(m, { seed: 42 });

test('causal masks in their exported spellings fuse to causal = 1 with the same outputs', () => {
  const tril = (n: number) => Array.from({ length: n * n }, (_, i) => (i % n <= Math.floor(i / n) ? 1 : 0));
  const forms: ((b: GraphBuilder, s: string) => string)[] = [
    // masked_fill(~tril, −inf)
    (b, s) => b.op('Where', [b.op('Not', [b.constant('m', constTensor('bool', [6, 6], tril(6)))]), b.constant('f', constTensor('f32', [], [-Infinity])), s]),
    // + (1 − tril)·(−1e9), as older Hugging Face models write it
    (b, s) => {
      const one = b.constant('one', constTensor('f32', [], [1]));
      const big = b.constant('big', constTensor('f32', [], [-1e9]));
      return b.op('Add', [s, b.op('Mul', [b.op('Sub', [one, b.constant('t', constTensor('f32', [1, 1, 6, 6], tril(6)))]), big])]);
    },
    // Where(Trilu(ones), scores, −inf)
    (b, s) => {
      const lower = b.op('Trilu', [b.op('ConstantOfShape', [b.constant('sh', constTensor('i64', [2], [6, 6]))], { value: { kind: 'tensor', value: constTensor('bool', [1], [1]) } })], { upper: 0 });
      return b.op('Where', [lower, s, b.constant('f', constTensor('f32', [], [-Infinity]))]);
    },
  ];
  for (const form of forms) {
    const model = bhsd([2, 3, 6, 8], (b, s) => form(b, b.op('Mul', [s, b.constant('c', constTensor('f32', [], [0.3]))])));
    const after = sameOutputs(model, inputsFor(model));
    const [att] = attentionNodes(after);
    assert.equal(att?.attrs.causal, { kind: 'int', value: 1 });
    assert.is(att!.inputs.length, 3);
    assert.is(after.graph.constants.length, 0, 'the mask constants are swept');
  }
});

test('masks that are not causal stay operands: bool, additive (scaled after), finite fill', () => {
  const forms: [string, (b: GraphBuilder, s: string) => string, string][] = [
    ['bool', (b, s) => b.op('Where', [b.input('keep', tensor('bool', [2, 1, 1, 6])), s, b.constant('f', constTensor('f32', [], [-Infinity]))]), 'bool'],
    ['additive', (b, s) => b.op('Mul', [b.op('Add', [s, b.input('bias', tensor('f32', [6, 6]))]), b.constant('c', constTensor('f32', [], [0.5]))]), 'f32'],
    ['fill', (b, s) => b.op('Where', [b.input('pad', tensor('bool', [2, 1, 1, 6])), b.constant('f', constTensor('f32', [], [-1e4])), s]), 'f32'],
    // Two sites: summed as additive masks (the bool one as 0 / −inf), the scale between them kept.
    [
      'two',
      (b, s) => {
        const w = b.op('Where', [b.input('keep', tensor('bool', [2, 1, 1, 6])), s, b.constant('f', constTensor('f32', [], [-Infinity]))]);
        const scaled = b.op('Mul', [w, b.constant('c', constTensor('f32', [], [0.5]))]);
        return b.op('Add', [scaled, b.input('bias', tensor('f32', [6, 6]))]);
      },
      'f32',
    ],
  ];
  for (const [what, form, dtype] of forms) {
    const model = bhsd([2, 3, 6, 8], form);
    const inputs = inputsFor(model);
    // Keep at least one key per row so no row is fully masked (there lathe gives 0, ONNX NaN).
    for (const name of ['keep', 'pad']) {
      const t = inputs.get(name);
      if (t) (t.data as Uint8Array).forEach((_, i, a) => (a[i] = name === 'keep' ? Number(i % 6 !== 5) : Number(i % 6 === 5)));
    }
    const after = sameOutputs(model, inputs);
    const [att] = attentionNodes(after);
    assert.ok(att, what);
    assert.is(att.inputs.length, 4, what);
    const maskType = [...after.graph.inputs, ...after.graph.nodes.flatMap((n) => n.outputs)].find((v) => v?.name === att.inputs[3])!.type;
    assert.is(maskType.kind === 'tensor' && maskType.dtype, dtype, what);
  }
});

test('Hugging Face GPT-2: causal Where with finfo.min, then an additive padding mask', () => {
  const tril = Array.from({ length: 36 }, (_, i) => (i % 6 <= Math.floor(i / 6) ? 1 : 0));
  const model = bhsd([2, 3, 6, 8], (b, s) => {
    const scaled = b.op('Div', [s, b.constant('d', constTensor('f32', [], [Math.sqrt(8)]))]);
    const min = b.constant('min', constTensor('f32', [], [-3.4028234663852886e38]));
    const causal = b.op('Where', [b.constant('bias', constTensor('bool', [1, 1, 6, 6], tril)), scaled, min]);
    return b.op('Add', [causal, b.input('pad', tensor('f32', [2, 1, 1, 6]))]);
  });
  const inputs = inputsFor(model);
  (inputs.get('pad')!.data as Float32Array).forEach((_, i, a) => (a[i] = i % 6 === 4 ? -3.4028234663852886e38 : 0));
  const after = sameOutputs(model, inputs);
  const [att] = attentionNodes(after);
  assert.equal(att?.attrs.causal, { kind: 'int', value: 1 });
  assert.equal(att!.inputs[3], 'pad');
});

test('nn.MultiheadAttention layout with batch 2: heads unfolded batch-major', () => {
  // [s, b, E] → Reshape [s, b·h, d] → Transpose [b·h, s, d], as torch exports MultiheadAttention.
  const [s, batch, h, d] = [5, 2, 3, 4];
  const b = new GraphBuilder('g');
  const x = b.input('x', tensor('f32', [s, batch, 3 * h * d]));
  const proj = (i: number) => {
    const starts = b.constant(`st${i}`, constTensor('i64', [1], [i * h * d]));
    const ends = b.constant(`en${i}`, constTensor('i64', [1], [(i + 1) * h * d]));
    const axes = b.constant(`ax${i}`, constTensor('i64', [1], [2]));
    return b.op('Reshape', [b.op('Slice', [x, starts, ends, axes]), b.constant(`sh${i}`, constTensor('i64', [3], [s, -1, d]))]);
  };
  const [q, k, v] = [proj(0), proj(1), proj(2)];
  const qt = b.op('Div', [b.op('Transpose', [q], { perm: [1, 0, 2] }), b.constant('sq', constTensor('f32', [], [2]))]);
  const kt = b.op('Transpose', [k], { perm: [1, 2, 0] });
  const vt = b.op('Transpose', [v], { perm: [1, 0, 2] });
  const y = b.op('MatMul', [b.op('Softmax', [b.op('MatMul', [qt, kt])], { axis: -1 }), vt]);
  const model = b.returns(b.op('Transpose', [y], { perm: [1, 0, 2] })).model();
  const after = sameOutputs(model, [rand([s, batch, 3 * h * d], 3)]);
  const [att] = attentionNodes(after);
  assert.equal(att?.attrs.num_heads, { kind: 'int', value: h });
  assert.equal(att?.attrs.scale, { kind: 'float', value: 0.5 });
});

test('values read outside the attention stay; a scaled Q used elsewhere keeps its Mul', () => {
  const b = new GraphBuilder('g');
  const shape = [1, 2, 4, 8];
  const [q, k, v] = [b.input('q', tensor('f32', shape)), b.input('k', tensor('f32', shape)), b.input('v', tensor('f32', shape))];
  const qs = b.op('Mul', [q, b.constant('c', constTensor('f32', [], [0.25]))]);
  const kt = b.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  const y = b.op('MatMul', [b.op('Softmax', [b.op('MatMul', [qs, kt])], { axis: -1 }), v]);
  const model = b.returns(y, qs, kt).model();
  const after = sameOutputs(model, inputsFor(model));
  assert.is(attentionNodes(after).length, 1);
  const ops = after.graph.nodes.map((n) => n.op);
  assert.ok(ops.includes('Mul') && ops.includes('Transpose'), ops.join());
});

test('the report counts fusions and says why a softmax was left alone', () => {
  const b = new GraphBuilder('g');
  const shape = [1, 2, 4, 8];
  const [q, k, v, s] = [b.input('q', tensor('f32', shape)), b.input('k', tensor('f32', shape)), b.input('v', tensor('f32', shape)), b.input('s', tensor('f32', []))];
  const kt = b.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  const y1 = b.op('MatMul', [b.op('Softmax', [b.op('Mul', [b.op('MatMul', [q, kt]), s])], { axis: -1 }), v]);
  const y2 = b.op('MatMul', [b.op('Softmax', [b.op('MatMul', [q, kt])], { axis: -1 }), v]);
  const model = b.returns(y1, y2).model();
  const { report } = fuseAttentionModel(model);
  assert.is(report.fused.length, 1);
  assert.is(report.skipped.length, 1);
  assert.match(report.skipped[0]!.reason, /multiplied by something other than a constant scalar/);
  const text = formatReport(report);
  assert.match(text, /^fuse-attention: fused 1 attention\n/);
  assert.match(text, /2 heads × 8, scale 1, no mask, from bhsd/);
  assert.match(text, /not fused: softmax/);
});

test('f16 attention fuses and keeps its dtype', () => {
  const b = new GraphBuilder('g');
  const shape = [1, 2, 4, 8];
  const [q, k, v] = [b.input('q', tensor('f16', shape)), b.input('k', tensor('f16', shape)), b.input('v', tensor('f16', shape))];
  const c = b.constant('c', toConst(tensorFrom('f16', [], [0.35355339])));
  const kt = b.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  const y = b.op('MatMul', [b.op('Softmax', [b.op('Mul', [b.op('MatMul', [q, kt]), c])], { axis: -1 }), v]);
  const model = b.returns(y).model();
  const { model: after } = fuseAttentionModel(model);
  verifyModel(after);
  const [att] = attentionNodes(after);
  assert.ok(att);
  assert.is(att.outputs[0]!.type.kind === 'tensor' && att.outputs[0]!.type.dtype, 'f16');
});

test.run();
