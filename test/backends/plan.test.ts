// Buffer planning by liveness (backends/plan.ts): reuse of freed buffers, no sharing within a
// step, dedicated buffers for inputs/outputs/constants, peak bytes, and the binding-size limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PlanStep, PlanValue } from '../../backends/plan.ts';
import { planBuffers } from '../../backends/plan.ts';

const v = (name: string, bytes: number, role: PlanValue['role'] = 'intermediate'): PlanValue => ({ name, bytes, role });
const step = (name: string, reads: string[], writes: string[]): PlanStep => ({ name, reads, writes });

test('a chain reuses two buffers for many intermediates', () => {
  const values = [v('x', 64, 'input'), v('a', 64), v('b', 64), v('c', 64), v('d', 64), v('y', 64, 'output')];
  const steps = [step('1', ['x'], ['a']), step('2', ['a'], ['b']), step('3', ['b'], ['c']), step('4', ['c'], ['d']), step('5', ['d'], ['y'])];
  const p = planBuffers(values, steps);
  const id = (n: string) => p.assignment.get(n)!;
  assert.is(p.buffers.length, 4); // x, y, and two ping-pong intermediates
  assert.is(id('a'), id('c'));
  assert.is(id('b'), id('d'));
  assert.is.not(id('a'), id('b'));
  assert.is(p.unsharedBytes, 256);
  assert.is(p.totalBytes, 4 * 64);
  assert.is(p.peakLiveBytes, 64 * 4); // x, y, and two live intermediates at a step
});

test('a result never shares a buffer with an operand of its own step', () => {
  const values = [v('x', 16, 'input'), v('a', 16), v('b', 16), v('y', 16, 'output')];
  const steps = [step('1', ['x'], ['a']), step('2', ['a'], ['b']), step('3', ['b'], ['y'])];
  const p = planBuffers(values, steps);
  assert.is.not(p.assignment.get('a'), p.assignment.get('b'));
});

test('best fit: the smallest free buffer that is large enough, else a new one', () => {
  const values = [v('x', 16, 'input'), v('big', 1024), v('small', 64), v('mid', 48), v('huge', 4096), v('y', 16, 'output')];
  const steps = [
    step('1', ['x'], ['big', 'small']),
    step('2', ['big', 'small'], ['y']), // both freed here
    step('3', ['x'], ['mid']), // fits in small's buffer (64), not big's
    step('4', ['mid'], ['huge']), // fits in neither: new buffer
  ];
  const p = planBuffers(values, steps);
  assert.is(p.assignment.get('mid'), p.assignment.get('small'));
  const ids = new Set(p.assignment.values());
  assert.is(ids.size, 5);
});

test('inputs, outputs and constants get their own buffers; unused intermediates none', () => {
  const values = [v('x', 16, 'input'), v('w', 32, 'constant'), v('t', 16), v('y', 16, 'output'), v('unused', 99)];
  const p = planBuffers(values, [step('1', ['x', 'w'], ['t']), step('2', ['t'], ['y'])]);
  assert.equal(p.buffers.map((b) => b.role).sort(), ['constant', 'input', 'intermediate', 'output']);
  assert.not.ok(p.assignment.has('unused'));
});

test('sizes round up to the alignment', () => {
  const p = planBuffers([v('x', 6, 'input')], [], { alignment: 16 });
  assert.is(p.buffers[0]!.bytes, 16);
});

test('a value over the binding limit is an error naming the limit', () => {
  assert.throws(
    () => planBuffers([v('x', 200, 'input')], [], { maxBindingBytes: 128, limitName: 'maxStorageBufferBindingSize' }),
    /input 'x' needs 200 bytes, more than the device's maxStorageBufferBindingSize of 128 bytes/,
  );
});

test('reading an intermediate before any step writes it is an error', () => {
  assert.throws(() => planBuffers([v('a', 4), v('y', 4, 'output')], [step('1', ['a'], ['y'])]), /step '1' reads 'a' before any step writes it/);
});

test.run();
