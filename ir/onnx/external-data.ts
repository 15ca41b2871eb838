// ONNX external data: a tensor whose bytes live in a file beside the model. The file is not read
// at import, only checked: it must stay inside the model's folder (no absolute paths, no `..`, no
// symlink pointing out) and be long enough. The result is a lazy FileRange.
import { realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { FileRange } from '../tensor-data.ts';
import type { OnnxTypes, Where } from './proto.ts';
import { fail } from './proto.ts';

export function externalRange(
  t: OnnxTypes.ITensorProto,
  label: string,
  expected: number,
  baseDir: string | undefined,
  where: Where,
): FileRange {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) fail('ExternalDataError', `${label} is stored externally but names no location`, where);
  if (baseDir === undefined) {
    fail('ExternalDataError', `${label} is stored in '${location}', but no model folder was given to find it`, where);
  }
  const offset = parseCount(entries.get('offset'), 'offset', label, where) ?? 0;
  const length = parseCount(entries.get('length'), 'length', label, where);
  const file = resolveInside(baseDir, location, label, where);

  if (length !== undefined && length !== expected) {
    fail('TensorDataError', `${label} needs ${expected} bytes but its external data length is ${length}`, where);
  }
  const size = statSync(file).size;
  if (offset + expected > size) {
    fail(
      'ExternalDataError',
      `${label} needs bytes ${offset}..${offset + expected} of '${location}', but the file has ${size} bytes`,
      where,
    );
  }
  return { kind: 'file', path: file, offset, length: expected };
}

/** `location` resolved against the model folder; refused if it points anywhere outside it. */
function resolveInside(baseDir: string, location: string, label: string, where: Where): string {
  const refuse = (why: string): never =>
    fail('ExternalDataError', `${label}: external data location '${location}' ${why}`, where);
  // Both flavours of absolute path: a model made on Windows may say C:\weights.bin.
  if (path.posix.isAbsolute(location) || path.win32.isAbsolute(location)) refuse('is absolute; it must be relative to the model folder');
  if (location.includes('\0')) refuse('contains a NUL byte');
  let base: string;
  try {
    base = realpathSync(baseDir);
  } catch {
    return fail('ExternalDataError', `model folder '${baseDir}' does not exist`, where);
  }
  const lexical = path.resolve(base, location);
  if (!isInside(base, lexical)) refuse('leaves the model folder');
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    return fail('ExternalDataError', `${label}: external data file '${location}' not found in ${base}`, where);
  }
  // A symlink inside the folder may still point out of it.
  if (!isInside(base, real)) refuse(`resolves to ${real}, outside the model folder`);
  if (!statSync(real).isFile()) refuse('is not a regular file');
  return real;
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function parseCount(text: string | undefined, key: string, label: string, where: Where): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    fail('ExternalDataError', `${label}: external data ${key} '${text}' is not a byte count`, where);
  }
  return Number(text);
}
