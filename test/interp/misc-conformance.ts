// Conformance helpers for the test/interp/misc-*.test.ts families: pick cases by name prefix and
// run them through the shared runner (compiler/conformance.ts), with explicit expected failures.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CONFORMANCE_ROOT, runCase } from '../../compiler/conformance.ts';

export const NODE_ROOT = path.join(CONFORMANCE_ROOT, 'node');
export const haveConformance = existsSync(NODE_ROOT);

/** Case names (without `test_`) whose name starts with one of the prefixes. */
export function casesFor(...prefixes: string[]): string[] {
  if (!haveConformance) return [];
  return readdirSync(NODE_ROOT)
    .filter((d) => d.startsWith('test_'))
    .map((d) => d.slice(5))
    .filter((n) => prefixes.some((p) => n.startsWith(p)))
    .sort();
}

/**
 * Run the cases and return the unexpected outcomes: failures not in `expected` (case → reason)
 * and expected failures that now pass (so the list stays honest).
 */
export function conformanceReport(
  cases: readonly string[],
  expected: Readonly<Record<string, string>> = {},
): { passed: number; total: number; unexpected: string[] } {
  const unexpected: string[] = [];
  let passed = 0;
  for (const c of cases) {
    const r = runCase(path.join(NODE_ROOT, `test_${c}`));
    const ok = r.status === 'pass';
    if (ok) passed++;
    if (ok && c in expected) unexpected.push(`${c}: listed as an expected failure but passes`);
    if (!ok && !(c in expected)) unexpected.push(`${c}: ${r.status}: ${r.reason}`);
  }
  return { passed, total: cases.length, unexpected };
}
