// The svdquant pass on the outlier fixture (fixtures/outlier-block: two transformer blocks with
// activation outliers injected in a few channels): per layer and for the whole model, SVDQuant's
// error against f32 is far below naive W4A4, the partial forms come from the options, the
// rewritten model's bytes are what the report says, and bad options are refused by name.
import path from 'node:path';
import { readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LATHE_DOMAIN } from '../../ir/graph.ts';
import type { Model } from '../../ir/graph.ts';
import { l2RelError } from '../../ir/interp/compare.ts';
import { runModel } from '../../ir/interp/run.ts';
import { readTensorPb } from '../../ir/interp/pb.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { verifyModel } from '../../ir/verify.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import { runPipeline } from '../../passes/manager.ts';
import { defaultSvdquantOptions, runSvdquant, settingsOf } from '../../passes/svdquant/pass.ts';
import type { SvdquantOptions } from '../../passes/svdquant/pass.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'fixtures/outlier-block');
const model = importOnnxFile(path.join(FIXTURE, 'model.onnx'));
const input = readTensorPb(path.join(FIXTURE, 'test_data_set_0/input_0.pb')).tensor;
const reference = runModel(model, [input])[0] as Tensor;

const defaults = defaultSvdquantOptions();
const calib = { folder: '', sets: 4, rows: 256 };
const run = (o: Partial<SvdquantOptions>) => runSvdquant(model, settingsOf({ ...defaults, ...o }), calib, false);

/** The model's output error against f32 (relative L2). */
const relError = (m: Model) => l2RelError(runModel(m, [input])[0] as Tensor, reference);

const full = run({ workers: 2 });

test('every linear layer is rewritten into Quantize4, Linear4 and LowRank, and the model verifies', () => {
  const r = full.report;
  assert.is(r.layers.length, 8, 'qkv, proj, fc1, fc2 of two blocks');
  const ops = full.model.graph.nodes.filter((n) => n.domain === LATHE_DOMAIN).map((n) => n.op);
  assert.is(ops.filter((o) => o === 'Quantize4').length, 8);
  assert.is(ops.filter((o) => o === 'Linear4').length, 8);
  assert.is(ops.filter((o) => o === 'LowRank').length, 8);
  assert.not.ok(full.model.graph.nodes.some((n) => n.op === 'MatMul' && r.layers.some((l) => l.node === n.name)), 'the f32 layers are gone');
  verifyModel(full.model);
  // fc2 reads GELU's output, which can be negative: signed; every rank is 32.
  for (const l of r.layers) {
    assert.is(l.rank, 32);
    assert.ok(l.alpha !== null && l.alpha > 0 && l.alpha < 1, `${l.node}: α ${l.alpha}`);
  }
});

test('SVDQuant layer errors are far below naive W4A4 on every layer', () => {
  const ratios: number[] = [];
  for (const l of full.report.layers) {
    const { naive, svdquant } = l.error;
    assert.ok(naive !== null && svdquant !== null);
    ratios.push(naive! / svdquant!);
    assert.ok(svdquant! * 2 < naive!, `${l.node}: SVDQuant ${svdquant} vs naive ${naive}`);
    assert.ok(l.error.smooth! < naive! && l.error.lowrank! < naive!, `${l.node}: each half helps`);
    assert.is(l.error.result, svdquant);
  }
  ratios.sort((a, b) => a - b);
  const median = (ratios[3]! + ratios[4]!) / 2;
  console.log(`    outlier-block layers: naive / SVDQuant error ${ratios[0]!.toFixed(1)}× … ${ratios[7]!.toFixed(1)}×, median ${median.toFixed(1)}×`);
  assert.ok(median > 4, `median ratio ${median}`);
});

test('the whole model: SVDQuant output error far below naive W4A4 (interpreter simulation)', () => {
  const naive = run({ rank: 0, smooth: false, compare: false, workers: 1 });
  const eSvd = relError(full.model);
  const eNaive = relError(naive.model);
  assert.ok(eSvd * 3 < eNaive, `whole model: SVDQuant ${eSvd} vs naive ${eNaive}`);
  console.log(`    outlier-block output error vs f32: SVDQuant ${eSvd.toExponential(2)}, naive W4A4 ${eNaive.toExponential(2)} (${(eNaive / eSvd).toFixed(1)}×)`);
  // The naive model is naive: no smoothing input, no low-rank branch.
  assert.not.ok(naive.model.graph.nodes.some((n) => n.op === 'LowRank'));
  assert.ok(naive.model.graph.nodes.filter((n) => n.op === 'Quantize4').every((n) => n.inputs.length === 1));
  for (const l of naive.report.layers) assert.is(l.alpha, null);
});

test('the report counts the bytes the rewritten model holds', () => {
  const r = full.report;
  const sum = r.layers.reduce((s, l) => s + l.bytes.after, 0);
  assert.is(r.totals.layerBytesAfter, sum);
  // Every new constant of the model is one of the layers' parts (+ the unchanged non-layer ones).
  const before = r.totals.modelBytesBefore - r.totals.layerBytesOriginal;
  assert.is(r.totals.modelBytesAfter, before + sum);
  for (const l of r.layers) {
    const groups = Math.ceil(l.K / 64);
    assert.is(l.bytes.weights, (l.N * groups * 64) / 2);
    assert.is(l.bytes.scales, l.N * groups * 2);
    assert.is(l.bytes.lowRank, (l.K + l.N) * 32 * 2);
  }
});

test('nvfp4 through the pipeline text, with a report file and skip', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svdquant-'));
  const file = path.join(dir, 'r.json');
  const p = parsePipeline(`svdquant{format=nvfp4 rank=16 skip="/blocks.1/*" report=${JSON.stringify(file)} table=false compare=false workers=1}`);
  const out = runPipeline(model, p).model;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(r.layers.length, 4);
  assert.is(r.settings.group, 16);
  assert.ok(r.skipped.filter((s: { reason: string }) => s.reason === 'skipped by the skip option').length === 4);
  const lin = out.graph.nodes.find((n) => n.op === 'Linear4')!;
  assert.is(lin.attrs.format?.value, 'nvfp4');
  assert.ok(relError(out) < 0.2, `nvfp4 output error ${relError(out)}`);
});

test('bad options are refused by name', () => {
  assert.throws(() => settingsOf({ ...defaults, format: 'nvfp4', group: 64 }), /nvfp4 quantizes in groups of 16/);
  assert.throws(() => settingsOf({ ...defaults, alpha: 'lots' }), /alpha must be 'auto' or a number/);
  assert.throws(() => settingsOf({ ...defaults, rank: -1 }), /rank must be/);
  assert.throws(() => parsePipeline('svdquant{format=int8}'), /int8/);
});

test.run();
