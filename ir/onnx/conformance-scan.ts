// Imports every model of the ONNX conformance data (apt package libonnx-testdata) and records,
// per case, whether it imports and if not, the error kind. Every failure must be a LatheError;
// anything else is reported as 'BareException' (an importer or op bug). The tests assert on it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ErrorKind } from '../errors.ts';
import { LatheError } from '../errors.ts';
import { inferModel } from '../infer.ts';
import { convertOnnxBytes } from './import.ts';

export const CONFORMANCE_ROOT = '/usr/share/libonnx-testdata/data';

export interface CaseResult {
  /** `node/test_add`, `simple/test_sign_model`, ... */
  readonly name: string;
  readonly file: string;
  readonly ok: boolean;
  /** Where it failed: decoding and conversion, or type inference. */
  readonly stage?: 'convert' | 'infer';
  readonly kind?: ErrorKind | 'BareException';
  readonly message?: string;
}

/** The case folders holding a model.onnx, sorted; empty when the data is not installed. */
export function conformanceCases(root = CONFORMANCE_ROOT): { name: string; file: string }[] {
  if (!existsSync(root)) return [];
  const out: { name: string; file: string }[] = [];
  for (const group of readdirSync(root).sort()) {
    const dir = path.join(root, group);
    let cases: string[];
    try {
      cases = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const c of cases) {
      const file = path.join(dir, c, 'model.onnx');
      if (existsSync(file)) out.push({ name: `${group}/${c}`, file });
    }
  }
  return out;
}

export function importCase(name: string, file: string): CaseResult {
  let stage: 'convert' | 'infer' = 'convert';
  try {
    const model = convertOnnxBytes(readFileSync(file), { file, baseDir: path.dirname(file) });
    stage = 'infer';
    inferModel(model, { mode: 'refine', file });
    return { name, file, ok: true };
  } catch (e) {
    if (e instanceof LatheError) return { name, file, ok: false, stage, kind: e.kind, message: e.at({ file }).message };
    return { name, file, ok: false, stage, kind: 'BareException', message: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
}

/** Import every case; undefined when the conformance data is not installed. */
export function scanConformance(root = CONFORMANCE_ROOT): CaseResult[] | undefined {
  if (!existsSync(root)) return undefined;
  return conformanceCases(root).map((c) => importCase(c.name, c.file));
}

/** Counts by outcome: `ok`, and `<stage>:<kind>` for failures. */
export function summarize(results: readonly CaseResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.ok ? 'ok' : `${r.stage}:${r.kind}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
