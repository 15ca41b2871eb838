// Every failure lathe reports on bad input is a LatheError with a kind (the class of problem) and
// a location (file, node, op, value, line/column) so the message says where and why.

export type ErrorKind =
  | 'ProtobufError' // truncated or corrupt ONNX protobuf
  | 'UnsupportedOp' // op, domain or opset the importer does not know
  | 'UnsupportedType' // a dtype or value kind lathe cannot hold
  | 'ShapeError' // inconsistent or impossible shapes
  | 'VerifyError' // cycle, dangling or doubly-defined value, op rule broken
  | 'ExternalDataError' // external data missing, short or outside the model's folder
  | 'TensorDataError' // a tensor larger than the bytes behind it
  | 'ParseError' // IR text syntax error
  | 'TypeError' // IR text type error
  | 'UsageError' // a CLI usage error
  | 'PassError' // a pass that is malformed, or that threw something other than a LatheError
  | 'BackendError'; // a GPU backend failure: shader compile error, device limit, lost device

export interface ErrorLocation {
  file?: string;
  node?: string;
  op?: string;
  value?: string;
  line?: number;
  column?: number;
}

export class LatheError extends Error {
  readonly kind: ErrorKind;
  readonly where: ErrorLocation;
  /** The message without the location prefix. */
  readonly detail: string;
  constructor(kind: ErrorKind, detail: string, where: ErrorLocation = {}) {
    super(formatMessage(detail, where));
    this.name = kind;
    this.kind = kind;
    this.where = where;
    this.detail = detail;
  }
  /** The same error with more location facts (facts it already has win). */
  at(where: ErrorLocation): LatheError {
    const e = new LatheError(this.kind, this.detail, { ...where, ...this.where });
    e.stack = this.stack;
    return e;
  }
}

function locationPrefix(w: ErrorLocation): string {
  const parts: string[] = [];
  if (w.file) parts.push(w.line !== undefined ? `${w.file}:${w.line}:${w.column ?? 1}` : w.file);
  else if (w.line !== undefined) parts.push(`line ${w.line}, column ${w.column ?? 1}`);
  if (w.node !== undefined) parts.push(`node '${w.node}'`);
  if (w.op) parts.push(`op ${w.op}`);
  if (w.value !== undefined) parts.push(`value '${w.value}'`);
  return parts.join(', ');
}

function formatMessage(message: string, where: ErrorLocation): string {
  const p = locationPrefix(where);
  return p ? `${p}: ${message}` : message;
}

export function isLatheError(e: unknown): e is LatheError {
  return e instanceof LatheError;
}
