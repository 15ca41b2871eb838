// Benchmark task (one process per run): lathe reads an ONNX file into its IR, verifies it and
// prints the text form. Run by bench/run.ts; by hand:
//   node --import tsx bench/tasks/import-lathe.ts bench/out/vit_b_16.onnx
import * as path from 'node:path';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { printModel } from '../../ir/text/print.ts';
import { verifyModel } from '../../ir/verify.ts';
import { begin, taskArgs } from '../lib/child.ts';

const [file] = taskArgs('import-lathe.ts MODEL.onnx', 1) as [string];
const timer = begin();
const model = timer.phase('import', () => importOnnxFile(file));
timer.phase('verify', () => verifyModel(model, { file }));
const printed: unknown = timer.phase('print', () => printModel(model, { baseDir: path.dirname(path.resolve(file)) }));
timer.info.nodes = model.graph.nodes.length;
timer.info.constants = model.graph.constants.length;
if (typeof printed === 'string') timer.info.textChars = printed.length;
timer.finish();
