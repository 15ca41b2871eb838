// String ops: StringNormalizer, TfIdfVectorizer (strings or integer tokens), and the opset-20
// StringConcat, StringSplit and RegexFullMatch. Case mapping uses JS's locale-independent
// toLowerCase/toUpperCase (the `locale` attribute is not consulted; ONNX Runtime's default
// en_US mapping agrees with it on the conformance data). RegexFullMatch runs the RE2 pattern as
// a JS RegExp, which agrees on RE2's common syntax.
import { numElements } from '../../types.ts';
import { defineOnnxEvals } from '../registry.ts';
import type { Tensor } from '../tensor.ts';
import { makeTensor, toNumbers } from '../tensor.ts';
import { broadcastIndex, broadcastShape } from './util.ts';

defineOnnxEvals(['StringNormalizer'], (ctx) => {
  const x = ctx.tensor(0);
  const items = x.data as string[];
  const sensitive = ctx.int('is_case_sensitive', 0) === 1;
  const action = ctx.string('case_change_action', 'NONE');
  const fold = (s: string) => (sensitive ? s : s.toLowerCase());
  const stop = new Set(ctx.strings('stopwords', []).map(fold));
  let kept = items.filter((s) => !stop.has(fold(s)));
  if (action === 'LOWER') kept = kept.map((s) => s.toLowerCase());
  else if (action === 'UPPER') kept = kept.map((s) => s.toUpperCase());
  // Input is [C] or [1, C]; when every string is a stopword the result keeps one empty string.
  if (kept.length === 0) kept = [''];
  const shape = x.shape.length === 2 ? [1, kept.length] : [kept.length];
  return [makeTensor('string', shape, kept)];
});

defineOnnxEvals(['TfIdfVectorizer'], (ctx) => {
  const x = ctx.tensor(0);
  const minN = ctx.int('min_gram_length');
  const maxN = ctx.int('max_gram_length');
  const maxSkip = ctx.int('max_skip_count');
  const mode = ctx.string('mode');
  const starts = ctx.ints('ngram_counts');
  const indexes = ctx.ints('ngram_indexes');
  const weights = ctx.floats('weights', []);
  const strPool = ctx.attr('pool_strings') !== undefined;
  const pool: string[] = strPool ? [...ctx.strings('pool_strings')] : ctx.ints('pool_int64s').map(String);
  // Pool entry k (the k-th n-gram, counting all lengths in pool order) → output column.
  const column = new Map<string, number>();
  let k = 0;
  starts.forEach((start, i) => {
    const n = i + 1;
    const end = i + 1 < starts.length ? starts[i + 1]! : pool.length;
    for (let p = start; p + n <= end; p += n) column.set(pool.slice(p, p + n).join('\u0000'), k++);
  });
  const width = Math.max(-1, ...indexes) + 1;
  const tokens = strPool ? (x.data as string[]) : toNumbers(x).map(String);
  const rows = x.shape.length === 2 ? x.shape[0]! : 1;
  const C = x.shape[x.shape.length - 1] ?? 1;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = tokens.slice(r * C, (r + 1) * C);
    const counts = new Float64Array(width);
    const count = (gram: string) => {
      const j = column.get(gram);
      if (j !== undefined) counts[indexes[j]!]!++;
    };
    // Unigrams are counted once; skips only apply to n-grams of two or more tokens.
    if (minN <= 1) for (const t of row) count(t);
    for (let n = Math.max(2, minN); n <= maxN; n++) {
      for (let s = 0; s <= maxSkip; s++) {
        const step = s + 1;
        for (let i = 0; i + (n - 1) * step < C; i++) {
          const gram: string[] = [];
          for (let j = 0; j < n; j++) gram.push(row[i + j * step]!);
          count(gram.join('\u0000'));
        }
      }
    }
    for (let c = 0; c < width; c++) {
      const w = weights.length ? weights[c]! : 1;
      const tf = counts[c]!;
      out[r * width + c] = mode === 'TF' ? tf : mode === 'IDF' ? (tf > 0 ? w : 0) : tf * w;
    }
  }
  return [makeTensor('f32', x.shape.length === 2 ? [rows, width] : [width], out)];
});

defineOnnxEvals(['StringConcat'], (ctx) => {
  const a = ctx.tensor(0);
  const b = ctx.tensor(1);
  const shape = broadcastShape([a.shape, b.shape]);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const x = a.data as string[];
  const y = b.data as string[];
  const out = Array.from({ length: numElements(shape) }, (_, i) => x[ia ? ia[i]! : i]! + y[ib ? ib[i]! : i]!);
  return [makeTensor('string', shape, out)];
});

defineOnnxEvals(['StringSplit'], (ctx) => {
  const x = ctx.tensor(0);
  const sep = ctx.attr('delimiter') ? ctx.string('delimiter') : '';
  const maxsplit = ctx.attr('maxsplit') ? ctx.int('maxsplit') : Infinity;
  // Python's str.split, as the ONNX reference runs it: without a delimiter, runs of whitespace
  // separate and leading whitespace is dropped (the unsplit rest after maxsplit keeps its
  // trailing whitespace); with one, every occurrence separates and empty pieces stay, so '' is
  // one empty piece. ONNX Runtime differs on those two corners (it trims, and gives '' no piece).
  const parts = (x.data as string[]).map((s) => {
    if (sep === '') {
      const words: string[] = [];
      let rest = s.replace(/^\s+/, '');
      while (rest !== '' && words.length < maxsplit) {
        const m = /\s+/.exec(rest);
        if (!m) break;
        words.push(rest.slice(0, m.index));
        rest = rest.slice(m.index + m[0].length);
      }
      if (rest !== '') words.push(rest);
      return words;
    }
    const pieces = s.split(sep);
    return pieces.length - 1 > maxsplit ? [...pieces.slice(0, maxsplit), pieces.slice(maxsplit).join(sep)] : pieces;
  });
  const width = Math.max(0, ...parts.map((p) => p.length));
  const out: string[] = [];
  for (const p of parts) for (let j = 0; j < width; j++) out.push(p[j] ?? '');
  const counts = makeTensor('i64', x.shape, BigInt64Array.from(parts, (p) => BigInt(p.length)));
  return [makeTensor('string', [...x.shape, width], out), counts];
});

defineOnnxEvals(['RegexFullMatch'], (ctx) => {
  const x: Tensor = ctx.tensor(0);
  const re = new RegExp(`^(?:${ctx.string('pattern')})$`, 'u');
  return [makeTensor('bool', x.shape, Uint8Array.from(x.data as string[], (s) => (re.test(s) ? 1 : 0)))];
});
