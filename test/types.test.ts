import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { refineType, tensor, typesCompatible, typeToString } from '../ir/types.ts';

test('symbols and unknowns print and stay compatible with sizes', () => {
  const a = tensor('f32', ['batch', 3, null]);
  assert.is(typeToString(a), 'f32[batch, 3, ?]');
  assert.ok(typesCompatible(a, tensor('f32', [2, 3, 4])));
  assert.not.ok(typesCompatible(a, tensor('f32', [2, 4, 4])));
  assert.not.ok(typesCompatible(a, tensor('f16', [2, 3, 4])));
  assert.is(typeToString(refineType(a, tensor('f32', ['batch', 3, 7]))), 'f32[batch, 3, 7]');
});

test.run();
