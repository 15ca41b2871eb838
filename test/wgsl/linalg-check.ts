// Shared check for the MatMul/Gemm, Conv, pool and attention kernel tests: every kernel of the
// case validates under Dawn's null backend, both with the portable caps (64×64 GEMM tiles, 256
// invocations) and with small-device caps (128 invocations: 32×32 tiles, smaller attention
// blocks); then the whole model runs on the adapter through the runtime and is compared with the
// interpreter (skipped, loudly, where no adapter is set up).
import * as assert from 'uvu/assert';
import type { Tensor } from '../../ir/interp/tensor.ts';
import { DEFAULT_CAPS, lowerCase, oneNode, reference, relError, validate } from './kernel-harness.ts';
import type { Case } from './kernel-harness.ts';
import { compareWithInterpreter } from './helpers.ts';
import type { AttrInput } from '../../ir/builder.ts';

const SMALL_CAPS = { ...DEFAULT_CAPS, maxWorkgroupInvocations: 128, maxWorkgroupStorageBytes: 8192 };

/** Compile-only: the null backend validates in milliseconds, lavapipe compiles in seconds. */
export async function validateCase(c: Case): Promise<void> {
  await validate(lowerCase(c, DEFAULT_CAPS));
  await validate(lowerCase(c, SMALL_CAPS));
}

/**
 * Validate, then run on the adapter: max |got − want| / max |want| must stay within `rel` (1e-4
 * unless said). Each new kernel costs lavapipe seconds to compile (Mesa's shader cache makes
 * reruns fast), so the tests run a few shapes that cover the code paths and validate the rest.
 */
export async function check(what: string, c: Case, rel = 1e-4): Promise<void> {
  await validateCase(c);
  const r = await compareWithInterpreter(c.model, c.inputs, { rtol: 1, atol: Infinity });
  if (!r) return;
  const e = relError(r.got[0]!, reference(c));
  assert.ok(e <= rel, `${what}: relative error ${e} > ${rel}`);
}

export function node(op: string, inputs: readonly (Tensor | null)[], attrs: Record<string, AttrInput> = {}, domain?: string): Case {
  return oneNode(op, inputs, attrs, domain);
}
