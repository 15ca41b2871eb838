// Asserting on LatheErrors: the kind, and words the message must contain.
import * as assert from 'uvu/assert';
import { LatheError } from '../../ir/errors.ts';
import type { ErrorKind } from '../../ir/errors.ts';

export function throwsLathe(fn: () => unknown, kind: ErrorKind, words: readonly string[] = []): LatheError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof LatheError)) throw new assert.Assertion({ message: `expected a LatheError, got ${String(e)}`, generated: false, operator: 'throws', actual: e, expects: kind });
    assert.is(e.kind, kind, `kind of: ${e.message}`);
    for (const w of words) assert.ok(e.message.includes(w), `message should mention '${w}': ${e.message}`);
    return e;
  }
  assert.unreachable(`expected ${kind}`);
  throw new Error('unreachable');
}
