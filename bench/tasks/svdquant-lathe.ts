// Benchmark task (one process per run): the svdquant pass on a model, as
// `lathe opt MODEL --passes 'svdquant{…}'` runs it. Phases: import, svdquant (calibration and
// quantization are also timed inside the pass and given in info); info holds the report's totals
// and the median layer errors.
//   node --import tsx bench/tasks/svdquant-lathe.ts bench/out/vit_b_16.onnx 'rank=32 format=int4'
//   node --import tsx bench/tasks/svdquant-lathe.ts --square 4096 'rank=32'   (one 4096×4096 MatMul)
import { GraphBuilder } from '../../ir/builder.ts';
import type { Model } from '../../ir/graph.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { constTensor } from '../../ir/tensor-data.ts';
import { tensor } from '../../ir/types.ts';
import { parsePipeline } from '../../passes/pipeline.ts';
import type { SvdquantOptions } from '../../passes/svdquant/pass.ts';
import { runSvdquant, settingsOf } from '../../passes/svdquant/pass.ts';
import { median } from '../lib/measure.ts';
import { begin, taskArgs } from '../lib/child.ts';

const [what, size, options] = taskArgs('svdquant-lathe.ts MODEL.onnx|--square N [OPTIONS]', 1) as [string, string?, string?];
const square = what === '--square';
const optText = (square ? options : size) ?? '';

/** One MatMul [tokens, n] × [n, n] with heavy-tailed weights (a few large ones, as trained layers have). */
function squareLayer(n: number): Model {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const w = new Float32Array(n * n);
  for (let i = 0; i < w.length; i++) {
    const g = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    w[i] = (rnd() < 0.001 ? 20 : 1) * g * 0.02;
  }
  const b = new GraphBuilder('square');
  const x = b.input('x', tensor('f32', [16, n]));
  b.constant('w', constTensor('f32', [n, n], w));
  return b.returns(b.op('MatMul', [x, 'w'], {}, { name: 'linear' })).model();
}

const timer = begin();
const model = timer.phase('import', () => (square ? squareLayer(Number(size)) : importOnnxFile(what)));
const entry = parsePipeline(`svdquant{${optText}}`)[0]!;
const o = entry.options as SvdquantOptions;
const { report } = timer.phase('svdquant', () => runSvdquant(model, settingsOf(o), { folder: o.calib, sets: o['calib-sets'], rows: o['calib-rows'] }, false));
const t = report.totals;
Object.assign(timer.info, {
  layers: t.layers,
  calibrationS: Number(report.seconds.calibration.toFixed(2)),
  calibrationCached: report.calibration?.fromCache ?? false,
  quantizationS: Number(report.seconds.quantization.toFixed(2)),
  layerBytesFp16: t.layerBytesFp16,
  layerBytesAfter: t.layerBytesAfter,
  savingVsFp16: Number(t.savingVsFp16.toFixed(3)),
  modelBytesBefore: t.modelBytesBefore,
  modelBytesAfter: t.modelBytesAfter,
});
for (const k of ['naive', 'smooth', 'lowrank', 'svdquant'] as const) {
  const xs = report.layers.map((l) => l.error[k]).filter((v): v is number => v !== null);
  if (xs.length) timer.info[`medianError:${k}`] = Number(median(xs).toPrecision(3));
}
timer.finish();
