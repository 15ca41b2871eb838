// Check task (run once by the import benchmark): vit_b_16 round-trips through the text form.
// print(parse(print(m))) must equal print(m), and the parsed model must equal m structurally,
// weights compared byte for byte (which reads every weight once, so this is not the memory figure).
//   node --import tsx bench/tasks/roundtrip-lathe.ts bench/out/vit_b_16.onnx
import * as path from 'node:path';
import { modelsEqual } from '../../ir/equal.ts';
import { importOnnxFile } from '../../ir/onnx/import.ts';
import { parseModel } from '../../ir/text/parse.ts';
import { printModel } from '../../ir/text/print.ts';
import { begin, taskArgs } from '../lib/child.ts';

const [file] = taskArgs('roundtrip-lathe.ts MODEL.onnx', 1) as [string];
const baseDir = path.dirname(path.resolve(file));
const timer = begin();
const model = timer.phase('import', () => importOnnxFile(file));
const text = timer.phase('print', () => printModel(model, { baseDir }));
const parsed = timer.phase('parse', () => parseModel(text, { file: `${file}.lir`, baseDir }));
const again = timer.phase('reprint', () => printModel(parsed, { baseDir }));
const diff = timer.phase('compare', () => (again === text ? modelsEqual(parsed, model) : 'printed text differs'));
timer.info.roundTrip = diff === null ? 'ok' : `FAILED: ${diff}`;
if (diff !== null) {
  console.error(`round trip of ${file} failed: ${diff}`);
  process.exitCode = 1;
}
timer.finish();
