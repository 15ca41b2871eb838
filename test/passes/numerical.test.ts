// Every canonical pass (and canonicalize) keeps the function: on each fixture model and on every
// 10th ONNX conformance model, the reference interpreter's outputs before and after the pass
// agree to 1e-5 of the output's largest magnitude, and the result verifies. Also checks what
// canonicalize recognizes in the fixtures.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFORMANCE_ROOT, dataSets, readInputs } from '../../compiler/conformance.ts';
import { LatheError } from '../../ir/errors.ts';
import type { Graph, Model } from '../../ir/graph.ts';
import { qualifiedOp, subgraphsOf } from '../../ir/graph.ts';
import { mismatch } from '../../ir/interp/compare.ts';
import { runModel } from '../../ir/interp/run.ts';
import type { RuntimeValue } from '../../ir/interp/tensor.ts';
import { isTensor, toF64 } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { printModel } from '../../ir/text/print.ts';
import { verifyModel } from '../../ir/verify.ts';
import { canonicalize } from '../../passes/canonicalize.ts';
import { constantFold } from '../../passes/constant-fold.ts';
import { cse } from '../../passes/cse.ts';
import { dce } from '../../passes/dce.ts';
import { foldShapes } from '../../passes/fold-shapes.ts';
import type { Pass } from '../../passes/pass.ts';
import { recognizeGelu } from '../../passes/recognize-gelu.ts';
import { recognizeLayerNorm } from '../../passes/recognize-layernorm.ts';
import { recognizeRmsNorm } from '../../passes/recognize-rmsnorm.ts';
import { recognizeSilu } from '../../passes/recognize-silu.ts';
import { removeNoops } from '../../passes/remove-noops.ts';
import { runPass } from '../../passes/canonicalize.ts';

const PASSES: readonly Pass[] = [dce, cse, constantFold, foldShapes, removeNoops, recognizeLayerNorm, recognizeGelu, recognizeSilu, recognizeRmsNorm, canonicalize];
const REL = 1e-5;
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
/** Ops whose results differ from run to run: the before/after comparison means nothing. */
const RANDOM = /^onnx\.(Random|Multinomial|Bernoulli|Dropout)/;

/** Why two outputs differ beyond 1e-5 of the reference's largest magnitude, or undefined. */
function differs(got: RuntimeValue | undefined, want: RuntimeValue): string | undefined {
  let scale = 0;
  if (isTensor(want) && want.dtype !== 'string' && want.dtype !== 'bool') {
    for (const v of toF64(want)) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  }
  return mismatch(got, want, { rtol: REL, atol: REL * scale });
}

function opsOf(g: Graph, out: string[] = []): string[] {
  for (const n of g.nodes) {
    out.push(qualifiedOp(n));
    for (const s of subgraphsOf(n)) opsOf(s.graph, out);
  }
  return out;
}

/** Run every pass on the model; returns the failures (an empty list when all keep the function). */
function checkPasses(name: string, model: Model, inputs: RuntimeValue[], checkInputUntouched: boolean): string[] {
  const want = runModel(model, inputs);
  const failures: string[] = [];
  const text = checkInputUntouched ? printModel(model) : '';
  for (const p of PASSES) {
    try {
      const out = runPass(p, model);
      if (out !== model) verifyModel(out);
      const got = runModel(out, inputs);
      want.forEach((w, i) => {
        const why = differs(got[i], w);
        if (why) failures.push(`${name}: ${p.name}: output ${i}: ${why}`);
      });
      if (checkInputUntouched && printModel(model) !== text) failures.push(`${name}: ${p.name} changed its input`);
    } catch (e) {
      failures.push(`${name}: ${p.name}: ${e instanceof LatheError ? e.message : (e as Error).stack}`);
    }
  }
  return failures;
}

const fixtures = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, 'model.onnx'))).sort() : [];
for (const f of fixtures) {
  test(`every pass keeps ${f}'s outputs`, () => {
    const model = importOnnxFile(join(FIXTURES, f, 'model.onnx'));
    const failures = checkPasses(f, model, readInputs(model.graph, join(FIXTURES, f, 'test_data_set_0')), true);
    assert.equal(failures, []);
  });
}

const EXPECTED: Record<string, Record<string, number>> = {
  'gpt2-tiny': { 'onnx.LayerNormalization': 5, 'lathe.Gelu': 2 },
  'vit-tiny': { 'onnx.LayerNormalization': 5, 'lathe.Gelu': 2 },
  'dit-block': { 'onnx.LayerNormalization': 2, 'lathe.Gelu': 1, 'lathe.SiLU': 1 },
};
for (const [f, want] of Object.entries(EXPECTED)) {
  test(`canonicalize recognizes ${f}'s LayerNorms and activations`, () => {
    const path = join(FIXTURES, f, 'model.onnx');
    if (!existsSync(path)) return;
    const out = runPass(canonicalize, importOnnxFile(path));
    verifyModel(out);
    const ops = opsOf(out.graph);
    for (const [op, n] of Object.entries(want)) assert.is(ops.filter((o) => o === op).length, n, `${f}: ${op}`);
    for (const gone of ['onnx.Erf', 'onnx.Tanh', 'onnx.Sigmoid', 'onnx.Identity', 'onnx.Constant']) {
      assert.not.ok(ops.includes(gone), `${f}: ${gone} left after canonicalize`);
    }
    assert.is(out.opsets.lathe, 1);
  });
}

const NODE_CASES = join(CONFORMANCE_ROOT, 'node');
const sample = existsSync(NODE_CASES) ? readdirSync(NODE_CASES).sort().filter((_, i) => i % 10 === 0) : [];
test(`every pass keeps the outputs of ${sample.length} conformance models (every 10th)`, () => {
  const failures: string[] = [];
  let checked = 0;
  for (const c of sample) {
    const dir = join(NODE_CASES, c);
    let model: Model;
    let inputs: RuntimeValue[];
    try {
      model = importOnnxFile(join(dir, 'model.onnx'));
      if (opsOf(model.graph).some((o) => RANDOM.test(o))) continue;
      const set = dataSets(dir)[0];
      if (!set) continue;
      inputs = readInputs(model.graph, set);
      runModel(model, inputs);
    } catch {
      continue; // not importable or not runnable: the conformance suite reports those
    }
    checked++;
    failures.push(...checkPasses(c, model, inputs, false));
  }
  assert.ok(checked > sample.length / 2, `only ${checked} of ${sample.length} models could be checked`);
  assert.equal(failures, []);
});

test.run();
