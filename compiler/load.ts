// Reading a model from disk, whatever form it is in: an ONNX protobuf or lathe's IR text.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LatheError } from '../ir/errors.ts';
import type { Model } from '../ir/graph.ts';
import { importOnnxFile } from '../ir/onnx/import.ts';
import { parseModel } from '../ir/text/parse.ts';

export type ModelFormat = 'onnx' | 'lir';

/** `.lir` is IR text; anything else is read as ONNX (the importer rejects what is not). */
export function formatOf(path: string): ModelFormat {
  return path.endsWith('.lir') ? 'lir' : 'onnx';
}

export function loadModel(path: string): Model {
  const abs = resolve(path);
  if (formatOf(path) === 'onnx') return importOnnxFile(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new LatheError('UsageError', `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  return parseModel(text, { file: path, baseDir: dirname(abs) });
}
