// The evaluator registry: one reference evaluation per op, registered by domain and name from the
// op family files in ir/interp/ops/. Adding an op to the interpreter is one defineEval call.
//
// The one rule for evaluators: never write into an operand's data. Results may share arrays with
// operands (Reshape, Identity) and constants are views of the model's bytes, so every evaluator
// allocates what it writes (tensor.ts: allocData, makeTensor, roundTo for narrow floats).
import type { AttrReader } from '../attr-reader.ts';
import { LatheError } from '../errors.ts';
import type { Attr, Graph, Node } from '../graph.ts';
import { ONNX_DOMAIN } from '../graph.ts';
import type { RuntimeValue, Tensor } from './tensor.ts';

/** What an evaluator sees: its node, operand values, attributes, opset, and subgraph execution. */
export interface EvalContext extends AttrReader {
  readonly node: Node;
  /** The opset version of the node's domain in the model being run. */
  readonly opset: number;
  /** Operand values; undefined where an optional operand is omitted. */
  readonly inputs: readonly (RuntimeValue | undefined)[];
  readonly numInputs: number;
  readonly numOutputs: number;
  /** Whether operand i is given. */
  has(i: number): boolean;
  /** Operand i, which must be given. */
  value(i: number): RuntimeValue;
  /** Operand i, which must be a given tensor. */
  tensor(i: number): Tensor;
  /** Operand i if given (it must then be a tensor). */
  optTensor(i: number): Tensor | undefined;
  /** Whether result i is wanted (present in the node). */
  wants(i: number): boolean;
  /** A tensor attribute as a run-time tensor, if present. */
  tensorAttr(name: string): Tensor | undefined;
  /** A graph attribute, which must be present. */
  graph(name: string): Graph;
  /** Run a subgraph with the given inputs; it sees the values in scope at this node. */
  runGraph(g: Graph, inputs: readonly (RuntimeValue | undefined)[]): RuntimeValue[];
  /** Throw a ShapeError (the interpreter adds the node and op). */
  fail(message: string): never;
}

/** An evaluator returns one value per result (undefined for results it does not produce). */
export type Evaluator = (ctx: EvalContext) => readonly (RuntimeValue | undefined)[];

const evaluators = new Map<string, Evaluator>();
const key = (domain: string, op: string) => `${domain || ONNX_DOMAIN}::${op}`;

export function defineEval(domain: string, op: string, fn: Evaluator): void {
  const k = key(domain, op);
  if (evaluators.has(k)) throw new Error(`evaluator for ${domain}.${op} is defined twice`);
  evaluators.set(k, fn);
}

/** Register the same ONNX evaluator under several op names. */
export function defineOnnxEvals(ops: readonly string[], fn: Evaluator): void {
  for (const op of ops) defineEval(ONNX_DOMAIN, op, fn);
}

export function lookupEval(domain: string, op: string): Evaluator | undefined {
  return evaluators.get(key(domain, op));
}

export function evaluatedOps(): string[] {
  return [...evaluators.keys()].sort();
}

/** The error kind for evaluation failures (the core has no dedicated kind yet). */
export function evalError(message: string): LatheError {
  return new LatheError('ShapeError', message);
}
