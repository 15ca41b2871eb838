// The verifier: structural rules first (SSA, definition before use, no cycles, subgraph scoping,
// constants backed by enough bytes), then every op's own rules and type inference in `check`
// mode, so a stored type an op cannot produce is an error.
import { LatheError } from './errors.ts';
import type { Graph, Model, Node } from './graph.ts';
import { qualifiedOp, subgraphsOf } from './graph.ts';
import { inferModel } from './infer.ts';
import './ops/index.ts';
import { expectedBytes } from './tensor-data.ts';
import type { Constant } from './graph.ts';

export interface VerifyOptions {
  /** Where the model came from, for messages. */
  file?: string;
}

/** Throws a LatheError describing the first rule the model breaks. */
export function verifyModel(model: Model, options: VerifyOptions = {}): void {
  const where = { file: options.file };
  try {
    verifyStructure(model.graph, new Set(), []);
  } catch (e) {
    throw e instanceof LatheError ? e.at(where) : e;
  }
  inferModel(model, { mode: 'check', file: options.file });
}

/**
 * Checks one graph given the names visible from the scopes around it. `path` names the nesting
 * (`@main/If_3.then_branch`) for messages.
 */
function verifyStructure(g: Graph, outer: ReadonlySet<string>, path: readonly string[]): void {
  const here = [...path, `@${g.name}`].join('/');
  const defined = new Set<string>();
  const define = (name: string, what: string, node?: Node) => {
    if (name === '') throw new LatheError('VerifyError', `${what} in ${here} has an empty name`, { node: node?.name });
    if (defined.has(name) || outer.has(name)) {
      throw new LatheError('VerifyError', `value '${name}' is defined more than once (again as ${what} in ${here})`, {
        value: name,
        node: node?.name,
      });
    }
    defined.add(name);
  };
  for (const v of g.inputs) define(v.name, 'an input');
  for (const c of g.constants) {
    define(c.name, 'a constant');
    checkConstantSize(c);
  }
  for (const c of g.inputDefaults ?? []) {
    if (!g.inputs.some((v) => v.name === c.name)) {
      throw new LatheError('VerifyError', `input default '${c.name}' names no input of ${here}`, { value: c.name });
    }
    checkConstantSize(c);
  }
  const laterOutputs = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) laterOutputs.set(o.name, n);

  for (const n of g.nodes) {
    const at = { node: n.name, op: qualifiedOp(n) };
    for (const name of n.inputs) {
      if (name === null) continue;
      if (defined.has(name) || outer.has(name)) continue;
      const producer = laterOutputs.get(name);
      if (producer) {
        const cycle = findCycle(g.nodes, n);
        throw new LatheError(
          'VerifyError',
          cycle
            ? `the graph has a cycle: ${cycle.join(' → ')}`
            : `operand '${name}' is used before node '${producer.name}' defines it (nodes are not in topological order)`,
          { ...at, value: name },
        );
      }
      throw new LatheError('VerifyError', `operand '${name}' is not defined in ${here} or any scope around it`, {
        ...at,
        value: name,
      });
    }
    // A subgraph sees every value defined so far here and around here, not later ones.
    const visible = new Set([...outer, ...defined]);
    for (const { attr, graph } of subgraphsOf(n)) {
      try {
        verifyStructure(graph, visible, [...path, `@${g.name}`, `${n.name}.${attr}`]);
      } catch (e) {
        throw e instanceof LatheError ? e.at(at) : e;
      }
    }
    for (const o of n.outputs) if (o) define(o.name, `a result of node '${n.name}'`, n);
  }
  for (const out of g.outputs) {
    if (!defined.has(out) && !outer.has(out)) {
      throw new LatheError('VerifyError', `${here} returns '${out}', which is not defined`, { value: out });
    }
  }
}

function checkConstantSize(c: Constant): void {
  const t = c.tensor;
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new LatheError('ShapeError', `constant '${c.name}' has an invalid shape [${t.shape.join(', ')}]`, { value: c.name });
  }
  if (t.dtype === 'string') {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const have = t.data.kind === 'strings' ? t.data.values.length : -1;
    if (have !== n) {
      throw new LatheError('TensorDataError', `string constant '${c.name}' needs ${n} elements, has ${have}`, { value: c.name });
    }
    return;
  }
  const need = expectedBytes(t.dtype, t.shape);
  const have = t.data.kind === 'bytes' ? t.data.bytes.byteLength : t.data.kind === 'file' ? t.data.length : -1;
  if (have < need) {
    throw new LatheError(
      'TensorDataError',
      `constant '${c.name}' is declared ${t.dtype}[${t.shape.join(', ')}] (${need} bytes) but only ${have} bytes back it`,
      { value: c.name },
    );
  }
}

/** A cycle through `start` in the node dependency graph, as node names, or undefined. */
function findCycle(nodes: readonly Node[], start: Node): string[] | undefined {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o.name, n);
  const stack: Node[] = [];
  const seen = new Set<Node>();
  const visit = (n: Node): string[] | undefined => {
    if (stack.includes(n)) return [...stack.slice(stack.indexOf(n)), n].map((x) => x.name);
    if (seen.has(n)) return undefined;
    seen.add(n);
    stack.push(n);
    for (const name of n.inputs) {
      const p = name === null ? undefined : producer.get(name);
      const found = p && visit(p);
      if (found) return found;
    }
    stack.pop();
    return undefined;
  };
  return visit(start);
}
