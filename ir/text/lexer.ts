// Tokens of lathe's IR text form. Keywords and dtype names are also Idents (token categories),
// so a symbol, attribute name or domain may be spelled like a keyword without quoting.
import type { IToken, TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.ts';
import { ALL_DTYPES } from '../dtype.ts';

const STR = String.raw`"(?:[^"\\\n\r]|\\.)*"`;
const PLAIN = String.raw`[A-Za-z_][A-Za-z0-9_.]*`;

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
export const ValueName = createToken({ name: 'ValueName', pattern: new RegExp(`%(?:${PLAIN}|${STR})`), label: '%value' });
export const AtName = createToken({ name: 'AtName', pattern: new RegExp(`@(?:${PLAIN}|${STR})`), label: '@name' });
export const HashName = createToken({ name: 'HashName', pattern: new RegExp(`#(?:${PLAIN}|${STR})`), label: '#node-name' });
/** Abstract category of every literal a dense<> element or scalar attribute may be. */
export const Literal = createToken({ name: 'Literal', pattern: Lexer.NA, label: 'literal' });
export const StringLit = createToken({ name: 'StringLit', pattern: new RegExp(STR), categories: [Literal], label: 'string' });
// Matches only where a string has no closing quote on its line; the parser reports it.
export const Unterminated = createToken({ name: 'Unterminated', pattern: /[%@#]?"(?:[^"\\\n\r]|\\.)*/ });

/** Abstract category of float literals: decimals, `inf`, `-inf`, `nan`. */
export const FloatLit = createToken({ name: 'FloatLit', pattern: Lexer.NA, categories: [Literal], label: 'float' });
export const Hex = createToken({ name: 'Hex', pattern: /0x[0-9A-Fa-f]+/, categories: [Literal], label: 'hex bits' });
export const DecFloat = createToken({
  name: 'DecFloat',
  pattern: /-?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)/,
  categories: [FloatLit, Literal],
  label: 'float',
});
export const NegInf = createToken({ name: 'NegInf', pattern: /-inf/, categories: [FloatLit, Literal], label: '-inf' });
export const IntLit = createToken({ name: 'IntLit', pattern: /-?\d+/, categories: [Literal], label: 'integer' });

const kw = (word: string, extra: TokenType[] = []): TokenType =>
  createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Ident, categories: [Ident, ...extra], label: `'${word}'` });
export const Graph = kw('graph');
export const Const = kw('const');
export const Return = kw('return');
export const Default = kw('default');
export const Dense = kw('dense');
export const TypeKw = kw('type');
export const Seq = kw('seq');
export const Opt = kw('opt');
export const True = kw('true', [Literal]);
export const False = kw('false', [Literal]);
export const Inf = kw('inf', [FloatLit, Literal]);
export const Nan = kw('nan', [FloatLit, Literal]);
// Longest names first: a shorter name that is a prefix must not win (f8e4m3fn vs f8e4m3fnuz).
const dtypeAlternation = [...ALL_DTYPES].sort((a, b) => b.length - a.length).join('|');
export const DTypeName = createToken({
  name: 'DTypeName',
  pattern: new RegExp(`(?:${dtypeAlternation})`),
  longer_alt: Ident,
  categories: [Ident],
  label: 'dtype',
});
export const Underscore = createToken({ name: 'Underscore', pattern: /_/, longer_alt: Ident, label: "'_'" });

const punct = (name: string, pattern: RegExp, label: string) => createToken({ name, pattern, label });
export const Arrow = punct('Arrow', /->/, "'->'");
export const LParen = punct('LParen', /\(/, "'('");
export const RParen = punct('RParen', /\)/, "')'");
export const LBrace = punct('LBrace', /\{/, "'{'");
export const RBrace = punct('RBrace', /\}/, "'}'");
export const LBracket = punct('LBracket', /\[/, "'['");
export const RBracket = punct('RBracket', /\]/, "']'");
export const LAngle = punct('LAngle', /</, "'<'");
export const RAngle = punct('RAngle', />/, "'>'");
export const Comma = punct('Comma', /,/, "','");
export const Colon = punct('Colon', /:/, "':'");
export const Equals = punct('Equals', /=/, "'='");
export const Dot = punct('Dot', /\./, "'.'");
export const Question = punct('Question', /\?/, "'?'");
export const Star = punct('Star', /\*/, "'*'");

export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  ValueName, AtName, HashName, StringLit, Unterminated,
  Hex, DecFloat, NegInf, IntLit, Arrow,
  LParen, RParen, LBrace, RBrace, LBracket, RBracket, LAngle, RAngle, Comma, Colon, Equals, Dot, Question, Star,
  Graph, Const, Return, Default, Dense, TypeKw, Seq, Opt, True, False, Inf, Nan, DTypeName, Underscore,
  Ident, FloatLit, Literal,
];

export const lirLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/** Words the lexer reads as something other than a plain Ident (printing must quote them). */
const notIdent = new Set(['_']);
const identRe = /^[A-Za-z_][A-Za-z0-9_]*$/;
const plainNameRe = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** Whether `s` can be printed bare where the grammar takes an Ident. */
export function isPlainIdent(s: string): boolean {
  return identRe.test(s) && !notIdent.has(s);
}
/** Whether a %value / @graph / #node name can be printed without quotes. */
export function isPlainName(s: string): boolean {
  return plainNameRe.test(s);
}
export type { IToken };
