// The ONNX protobuf schema (onnx-proto: protobufjs static code for ONNX v1.10.2) and the small
// conversions every importer module needs. Fields newer than v1.10.2 (e.g. fp8/int4 data type
// codes) still decode: data types are plain int32 on the wire.
import onnxProto from 'onnx-proto';
import { LatheError } from '../errors.ts';
import type { ErrorLocation } from '../errors.ts';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

/** protobufjs gives int64 fields as Long objects (or numbers when they fit). */
export interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
}
export type Int64 = number | LongLike;

/** An int64 as a JS number (values beyond 2^53, such as INT64_MAX in Slice ends, round). */
export function toNumber(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

const utf8 = new TextDecoder('utf-8');
export function bytesToString(b: Uint8Array | null | undefined): string {
  return b ? utf8.decode(b) : '';
}

/** Where the conversion is, for error messages. */
export type Where = ErrorLocation;

export function fail(kind: LatheError['kind'], detail: string, where: Where): never {
  throw new LatheError(kind, detail, where);
}
