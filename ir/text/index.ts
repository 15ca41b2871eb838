// The IR text form: print, parse, and saving/loading a .lir with its weight sidecar.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Model } from '../graph.ts';
import { parseModel } from './parse.ts';
import { printModel } from './print.ts';
import { sidecarPath, sidecarSink } from './weights.ts';

export { parseModel, type ParseOptions } from './parse.ts';
export { printGraph, printModel, type PrintOptions } from './print.ts';
export { SidecarWeights, sidecarPath, sidecarSink, type WeightSink } from './weights.ts';

/** Write `model` to a .lir file; constants over `inlineLimit` elements go to its sidecar. */
export function saveModel(lirPath: string, model: Model, opts: { inlineLimit?: number } = {}): void {
  const weights = sidecarSink(sidecarPath(lirPath));
  const text = printModel(model, { baseDir: dirname(lirPath), inlineLimit: opts.inlineLimit, weights });
  weights.close();
  writeFileSync(lirPath, text);
}

/** Read a .lir file; its @file weights stay on disk until someone asks for the bytes. */
export function loadModel(lirPath: string): Model {
  return parseModel(readFileSync(lirPath, 'utf8'), { file: lirPath });
}
