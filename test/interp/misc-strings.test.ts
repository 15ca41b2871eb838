// String ops: StringNormalizer and TfIdfVectorizer against the ONNX conformance cases, plus
// hand-checked TF-IDF modes and the opset-20 StringConcat / StringSplit / RegexFullMatch (not in
// the ONNX 1.12 data; StringSplit follows the ONNX reference, i.e. Python's str.split).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casesFor, conformanceReport, haveConformance } from './misc-conformance.ts';
import { evalOp, shapeOf, t, vals } from './misc-helpers.ts';

test('conformance: StringNormalizer, TfIdfVectorizer', () => {
  if (!haveConformance) return console.log('  (skipped: libonnx-testdata not installed)');
  const r = conformanceReport(casesFor('strnormalizer', 'tfidfvectorizer', 'string_'));
  console.log(`  string conformance: ${r.passed}/${r.total}`);
  assert.equal(r.unexpected, []);
  assert.ok(r.total >= 13);
});

test('StringNormalizer: stopwords (case-insensitive by default), case change, all removed', () => {
  const x = t('string', [4], ['Monday', 'tuesday', 'MONDAY', 'Wed']);
  const [y] = evalOp('StringNormalizer', [x], { stopwords: ['monday'], case_change_action: 'UPPER' });
  assert.equal(vals(y), ['TUESDAY', 'WED']);
  const [z] = evalOp('StringNormalizer', [x], { stopwords: ['monday'], is_case_sensitive: 1 });
  assert.equal(vals(z), ['Monday', 'tuesday', 'MONDAY', 'Wed']);
  const [e] = evalOp('StringNormalizer', [t('string', [1, 2], ['a', 'B'])], { stopwords: ['A', 'b'] });
  assert.equal([shapeOf(e), vals(e)], [[1, 1], ['']]);
});

test('TfIdfVectorizer: unigrams once, skip-grams, TF/IDF/TFIDF', () => {
  const x = t('i32', [2, 6], [1, 2, 3, 5, 5, 6, 2, 3, 5, 3, 5, 5]);
  // Pool: unigrams 2, 3, 5; bigrams (5, 6), (3, 5).
  const attrs = { max_gram_length: 2, min_gram_length: 1, max_skip_count: 2, ngram_counts: [0, 3], ngram_indexes: [0, 1, 2, 3, 4], pool_int64s: [2, 3, 5, 5, 6, 3, 5] };
  const [tf] = evalOp('TfIdfVectorizer', [x], { ...attrs, mode: 'TF' });
  // Row 0: 2×1, 3×1, 5×2; (5,6) adjacent and at skip 1; (3,5) adjacent and at skip 1.
  assert.equal(vals(tf), [1, 1, 2, 2, 2, 1, 2, 3, 0, 4]);
  const w = { floats: [0.5, 1, 2, 3, 4] };
  assert.equal(vals(evalOp('TfIdfVectorizer', [x], { ...attrs, mode: 'IDF', weights: w })[0]), [0.5, 1, 2, 3, 4, 0.5, 1, 2, 0, 4]);
  assert.equal(vals(evalOp('TfIdfVectorizer', [x], { ...attrs, mode: 'TFIDF', weights: w })[0]), [0.5, 1, 4, 6, 8, 0.5, 2, 6, 0, 16]);
});

test('StringConcat broadcasts', () => {
  const [y] = evalOp('StringConcat', [t('string', [2, 1], ['a', 'b']), t('string', [2], ['x', 'yy'])]);
  assert.equal([shapeOf(y), vals(y)], [[2, 2], ['ax', 'ayy', 'bx', 'byy']]);
});

test('StringSplit pads with empty strings and counts pieces', () => {
  const x = t('string', [3], ['  a b   c ', '', 'one']);
  const [y, n] = evalOp('StringSplit', [x], {}, { outputs: 2 });
  assert.equal([shapeOf(y), vals(y), vals(n)], [[3, 3], ['a', 'b', 'c', '', '', '', 'one', '', ''], [3, 0, 1]]);
  const [d, dn] = evalOp('StringSplit', [t('string', [2], ['a-b--c-d', '-x'])], { delimiter: '-', maxsplit: 2 }, { outputs: 2 });
  assert.equal([vals(d), vals(dn)], [['a', 'b', '-c-d', '', 'x', ''], [3, 2]]);
});

test('RegexFullMatch matches the whole string', () => {
  const [y] = evalOp('RegexFullMatch', [t('string', [4], ['abc12', 'Abc', 'abc1x', ''])], { pattern: '[a-z]+\\d*' });
  assert.equal(vals(y), [1, 0, 0, 0]);
});

test.run();
