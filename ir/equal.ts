// Structural equality of models, for round-trip tests and for passes that must change nothing.
// Returns where the first difference is, or null. Everything counts except what has no meaning:
// the order of keys in attribute and opset records, an absent vs an empty `inputDefaults`, and
// where a constant's bytes live (its contents are compared byte for byte).
import type { Attr, Constant, Graph, Model, Node, Value } from './graph.ts';
import type { ConstTensor } from './tensor-data.ts';
import { tensorBytes } from './tensor-data.ts';
import type { Dim, ValueType } from './types.ts';
import { typeToString } from './types.ts';

export function modelsEqual(a: Model, b: Model): string | null {
  return (
    recordsEqual('opsets', a.opsets, b.opsets, (x, y) => (x === y ? null : `${x} vs ${y}`)) ??
    (a.producer === b.producer ? null : `producer: ${JSON.stringify(a.producer)} vs ${JSON.stringify(b.producer)}`) ??
    graphsEqual(a.graph, b.graph)
  );
}

export function graphsEqual(a: Graph, b: Graph): string | null {
  const where = `graph @${a.name}`;
  const d =
    (a.name === b.name ? null : `name ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`) ??
    listsEqual('input', a.inputs, b.inputs, valuesEqual) ??
    listsEqual('constant', a.constants, b.constants, constantsEqual) ??
    listsEqual('input default', a.inputDefaults ?? [], b.inputDefaults ?? [], constantsEqual) ??
    listsEqual('node', a.nodes, b.nodes, nodesEqual) ??
    listsEqual('output', a.outputs, b.outputs, (x, y) => (x === y ? null : `${JSON.stringify(x)} vs ${JSON.stringify(y)}`));
  return d && `${where}: ${d}`;
}

/** Exact type equality: a symbol '3' differs from the size 3, and a symbol from unknown. */
export function sameType(a: ValueType, b: ValueType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'tensor' && b.kind === 'tensor') {
    if (a.dtype !== b.dtype) return false;
    if (a.shape === null || b.shape === null) return a.shape === b.shape;
    return a.shape.length === b.shape.length && a.shape.every((d, i) => sameDim(d, b.shape![i]!));
  }
  return sameType((a as { elem: ValueType }).elem, (b as { elem: ValueType }).elem);
}

const sameDim = (a: Dim, b: Dim) => a === b;

/** Type text that tells symbols from sizes (typeToString does not quote symbols). */
const typeText = (t: ValueType) => JSON.stringify(t) ?? typeToString(t);

function typesDiff(a: ValueType, b: ValueType): string | null {
  return sameType(a, b) ? null : `type ${typeText(a)} vs ${typeText(b)}`;
}

function valuesEqual(a: Value, b: Value): string | null {
  if (a.name !== b.name) return `name ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`;
  return typesDiff(a.type, b.type);
}

function constantsEqual(a: Constant, b: Constant): string | null {
  if (a.name !== b.name) return `name ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`;
  return tensorsEqual(a.tensor, b.tensor);
}

export function tensorsEqual(a: ConstTensor, b: ConstTensor): string | null {
  if (a.dtype !== b.dtype) return `dtype ${a.dtype} vs ${b.dtype}`;
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    return `shape [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`;
  }
  const da = a.data;
  const db = b.data;
  if (da.kind === 'strings' || db.kind === 'strings') {
    if (da.kind !== 'strings' || db.kind !== 'strings') return `contents: ${da.kind} vs ${db.kind}`;
    return listsEqual('string', da.values, db.values, (x, y) => (x === y ? null : `${JSON.stringify(x)} vs ${JSON.stringify(y)}`));
  }
  // The same file range needs no reading.
  if (da.kind === 'file' && db.kind === 'file' && da.path === db.path && da.offset === db.offset && da.length === db.length) return null;
  const x = tensorBytes(a);
  const y = tensorBytes(b);
  if (x.length !== y.length) return `contents: ${x.length} bytes vs ${y.length} bytes`;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `contents differ at byte ${i}: ${x[i]} vs ${y[i]}`;
  return null;
}

function nodesEqual(a: Node, b: Node): string | null {
  const d =
    (a.name === b.name ? null : `name ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`) ??
    (a.domain === b.domain ? null : `domain ${JSON.stringify(a.domain)} vs ${JSON.stringify(b.domain)}`) ??
    (a.op === b.op ? null : `op ${JSON.stringify(a.op)} vs ${JSON.stringify(b.op)}`) ??
    listsEqual('operand', a.inputs, b.inputs, (x, y) => (x === y ? null : `${JSON.stringify(x)} vs ${JSON.stringify(y)}`)) ??
    listsEqual('result', a.outputs, b.outputs, (x, y) => (x === null || y === null ? (x === y ? null : `${JSON.stringify(x?.name ?? null)} vs ${JSON.stringify(y?.name ?? null)}`) : valuesEqual(x, y))) ??
    recordsEqual('attribute', a.attrs, b.attrs, attrsEqual);
  return d && `node '${a.name}': ${d}`;
}

function attrsEqual(a: Attr, b: Attr): string | null {
  if (a.kind !== b.kind) return `kind ${a.kind} vs ${b.kind}`;
  const num = (x: number, y: number) => (Object.is(x, y) ? null : `${x} vs ${y}`);
  const str = (x: string, y: string) => (x === y ? null : `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  switch (a.kind) {
    case 'int':
    case 'float': return num(a.value, b.value as number);
    case 'string': return str(a.value, b.value as string);
    case 'tensor': return tensorsEqual(a.value, b.value as ConstTensor);
    case 'graph': return graphsEqual(a.value, b.value as Graph);
    case 'type': return typesDiff(a.value, b.value as ValueType);
    case 'ints':
    case 'floats': return listsEqual('element', a.value, b.value as number[], num);
    case 'strings': return listsEqual('element', a.value, b.value as string[], str);
    case 'tensors': return listsEqual('tensor', a.value, b.value as ConstTensor[], tensorsEqual);
    case 'graphs': return listsEqual('graph', a.value, b.value as Graph[], graphsEqual);
    case 'types': return listsEqual('type', a.value, b.value as ValueType[], typesDiff);
  }
}

function listsEqual<T>(what: string, a: readonly T[], b: readonly T[], eq: (x: T, y: T) => string | null): string | null {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = eq(a[i]!, b[i]!);
    if (d) return `${what} ${i}: ${d}`;
  }
  return a.length === b.length ? null : `${a.length} ${what}s vs ${b.length}`;
}

function recordsEqual<T>(what: string, a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>, eq: (x: T, y: T) => string | null): string | null {
  for (const k of Object.keys(a)) {
    if (!Object.hasOwn(b, k)) return `${what} ${JSON.stringify(k)} only in the first`;
    const d = eq(a[k]!, b[k]!);
    if (d) return `${what} ${JSON.stringify(k)}: ${d}`;
  }
  for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) return `${what} ${JSON.stringify(k)} only in the second`;
  return null;
}
