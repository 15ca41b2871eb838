// The outlier fixture (fixtures/outlier-block) after the default pipeline and svdquant, for the
// backend tests: the compiled model must reproduce the interpreter's simulation of it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInputs } from '../../compiler/conformance.ts';
import type { Model } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { runPipeline } from '../../passes/manager.ts';
import { parsePipeline } from '../../passes/pipeline.ts';

export const OUTLIER_BLOCK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/outlier-block');

/** The fixture quantized (calibration cached after the first use), with its test input. */
export function quantizedOutlierBlock(format: 'int4' | 'nvfp4'): { model: Model; inputs: Tensor[] } {
  const model = importOnnxFile(path.join(OUTLIER_BLOCK, 'model.onnx'));
  const inputs = readInputs(model.graph, path.join(OUTLIER_BLOCK, 'test_data_set_0')) as Tensor[];
  const p = parsePipeline(`default,svdquant{format=${format} compare=false table=false workers=1}`);
  return { model: runPipeline(model, p).model, inputs };
}
