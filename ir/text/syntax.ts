// The chevrotain grammar of the text form. It only builds a syntax tree that keeps its tokens
// (for line:column in messages); names, types and scopes are checked in parse.ts. Rule bodies run
// once in chevrotain's recording phase with placeholder tokens, so nothing here looks inside them.
import type { IToken } from 'chevrotain';
import { EmbeddedActionsParser } from './chevrotain.ts';
import * as T from './lexer.ts';

export type SynType =
  | { kind: 'tensor'; tok: IToken; dims: IToken[] | null }
  | { kind: 'seq' | 'opt'; tok: IToken; elem: SynType };
export interface SynData {
  kind: 'dense' | 'file';
  tok: IToken;
  /** dense: the element tokens; file: the path string. */
  elems: IToken[];
  fields: { key: IToken; value: IToken }[];
}
export interface SynTensor { type: SynType; data: SynData }
export type SynAttrValue =
  | { kind: 'scalar'; tok: IToken }
  | { kind: 'tensor'; value: SynTensor }
  | { kind: 'graph'; value: SynGraph }
  | { kind: 'type'; value: SynType }
  | { kind: 'list'; tok: IToken; items: SynAttrValue[]; annot?: IToken };
export interface SynAttr { name: IToken; value: SynAttrValue }
/** A binder or `_` (omitted). */
export type SynResult = IToken;
export type SynStmt =
  | { kind: 'default'; tok: IToken; name: IToken; value: SynTensor }
  | { kind: 'const'; tok: IToken; results: SynResult[]; value: SynTensor }
  | {
      kind: 'node';
      results: SynResult[];
      opParts: IToken[];
      operands: IToken[];
      attrs: SynAttr[];
      /** Result types; a null entry stands for `_`. */
      types: (SynType | null)[];
      typesTok?: IToken;
      name?: IToken;
    };
export interface SynGraph {
  tok: IToken;
  name: IToken;
  inputs: { name: IToken; type: SynType }[];
  /** Declared result types; null where the printer wrote `?` (type not known). */
  results: (SynType | null)[];
  body: SynStmt[];
  ret: { tok: IToken; values: IToken[] };
}
export interface SynHeaderEntry { key: IToken; value: IToken | { key: IToken[]; value: IToken }[] }
export interface SynModel { header?: { tok: IToken; word: IToken; entries: SynHeaderEntry[] }; graph: SynGraph }

class LirParser extends EmbeddedActionsParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: false, maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  model = this.RULE('model', (): SynModel => {
    let header: SynModel['header'];
    this.OPTION(() => {
      const tok = this.CONSUME(T.Ident);
      this.CONSUME(T.Dot);
      const word = this.CONSUME2(T.Ident);
      const entries: SynHeaderEntry[] = [];
      this.CONSUME(T.LBrace);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => entries.push(this.SUBRULE(this.headerEntry)) });
      this.CONSUME(T.RBrace);
      header = { tok, word, entries };
    });
    const graph = this.SUBRULE(this.graph);
    return { header, graph };
  });

  headerEntry = this.RULE('headerEntry', (): SynHeaderEntry => {
    const key = this.CONSUME(T.Ident);
    this.CONSUME(T.Equals);
    const value = this.OR([
      { ALT: () => this.CONSUME(T.StringLit) },
      {
        ALT: () => {
          const entries: { key: IToken[]; value: IToken }[] = [];
          this.CONSUME(T.LBrace);
          this.MANY_SEP({
            SEP: T.Comma,
            DEF: () => {
              const k = this.SUBRULE(this.domain);
              this.CONSUME2(T.Equals);
              entries.push({ key: k, value: this.CONSUME(T.IntLit) });
            },
          });
          this.CONSUME(T.RBrace);
          return entries;
        },
      },
    ]);
    return { key, value };
  });

  /** A domain: a quoted raw domain, or a dotted prefix (`onnx`, `ai.onnx.preview.training`). */
  domain = this.RULE('domain', (): IToken[] => {
    return this.OR([
      { ALT: () => [this.CONSUME(T.StringLit)] },
      {
        ALT: () => {
          const parts = [this.CONSUME(T.Ident)];
          this.MANY(() => {
            this.CONSUME(T.Dot);
            parts.push(this.CONSUME2(T.Ident));
          });
          return parts;
        },
      },
    ]);
  });

  graph = this.RULE('graph', (): SynGraph => {
    const tok = this.CONSUME(T.Graph);
    const name = this.CONSUME(T.AtName);
    const inputs: SynGraph['inputs'] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const n = this.CONSUME(T.ValueName);
        this.CONSUME(T.Colon);
        inputs.push({ name: n, type: this.SUBRULE(this.type) });
      },
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    this.CONSUME2(T.LParen);
    const results: (SynType | null)[] = [];
    this.MANY_SEP2({
      SEP: T.Comma,
      DEF: () =>
        results.push(
          this.OR([
            { ALT: () => this.SUBRULE2(this.type) },
            { ALT: () => (this.CONSUME(T.Question), null) },
          ]),
        ),
    });
    this.CONSUME2(T.RParen);
    this.CONSUME(T.LBrace);
    const body: SynStmt[] = [];
    this.MANY(() => body.push(this.SUBRULE(this.stmt)));
    const retTok = this.CONSUME(T.Return);
    const values: IToken[] = [];
    this.MANY_SEP3({ SEP: T.Comma, DEF: () => values.push(this.CONSUME2(T.ValueName)) });
    this.CONSUME(T.RBrace);
    return { tok, name, inputs, results, body, ret: { tok: retTok, values } };
  });

  stmt = this.RULE('stmt', (): SynStmt => {
    return this.OR([
      {
        ALT: () => {
          const tok = this.CONSUME(T.Default);
          const name = this.CONSUME(T.ValueName);
          this.CONSUME(T.Equals);
          return { kind: 'default' as const, tok, name, value: this.SUBRULE(this.tensorLit) };
        },
      },
      {
        ALT: () => {
          const results: SynResult[] = [];
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => results.push(this.SUBRULE(this.result)) });
          this.CONSUME2(T.Equals);
          return this.OR2([
            {
              ALT: () => {
                const tok = this.CONSUME(T.Const);
                return { kind: 'const' as const, tok, results, value: this.SUBRULE2(this.tensorLit) };
              },
            },
            { ALT: () => this.SUBRULE(this.nodeRhs, { ARGS: [results] }) },
          ]);
        },
      },
      { ALT: () => this.SUBRULE2(this.nodeRhs, { ARGS: [[]] }) },
    ]);
  });

  result = this.RULE('result', (): IToken =>
    this.OR([{ ALT: () => this.CONSUME(T.ValueName) }, { ALT: () => this.CONSUME(T.Underscore) }]),
  );

  nodeRhs = this.RULE('nodeRhs', (results: SynResult[]): SynStmt => {
    const opParts: IToken[] = [this.OR([{ ALT: () => this.CONSUME(T.StringLit) }, { ALT: () => this.CONSUME(T.Ident) }])];
    this.AT_LEAST_ONE(() => {
      this.CONSUME(T.Dot);
      opParts.push(this.OR2([{ ALT: () => this.CONSUME2(T.StringLit) }, { ALT: () => this.CONSUME2(T.Ident) }]));
    });
    const operands: IToken[] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => operands.push(this.SUBRULE(this.result)) });
    this.CONSUME(T.RParen);
    let attrs: SynAttr[] = [];
    this.OPTION(() => (attrs = this.SUBRULE(this.attrDict)));
    const types: (SynType | null)[] = [];
    let typesTok: IToken | undefined;
    this.OPTION2(() => {
      typesTok = this.CONSUME(T.Colon);
      this.AT_LEAST_ONE_SEP({
        SEP: T.Comma,
        DEF: () =>
          types.push(this.OR3([{ ALT: () => this.SUBRULE(this.type) }, { ALT: () => (this.CONSUME(T.Underscore), null) }])),
      });
    });
    let name: IToken | undefined;
    this.OPTION3(() => (name = this.CONSUME(T.HashName)));
    return { kind: 'node', results, opParts, operands, attrs, types, typesTok, name };
  });

  attrDict = this.RULE('attrDict', (): SynAttr[] => {
    const attrs: SynAttr[] = [];
    this.CONSUME(T.LBrace);
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        const name = this.OR([{ ALT: () => this.CONSUME(T.Ident) }, { ALT: () => this.CONSUME(T.StringLit) }]);
        this.CONSUME(T.Equals);
        attrs.push({ name, value: this.SUBRULE(this.attrValue) });
      },
    });
    this.CONSUME(T.RBrace);
    return attrs;
  });

  attrValue = this.RULE('attrValue', (): SynAttrValue => {
    return this.OR([
      { ALT: () => ({ kind: 'scalar' as const, tok: this.SUBRULE(this.scalar) }) },
      { ALT: () => ({ kind: 'tensor' as const, value: this.SUBRULE(this.tensorLit) }) },
      { ALT: () => ({ kind: 'graph' as const, value: this.SUBRULE(this.graph) }) },
      {
        ALT: () => {
          this.CONSUME(T.TypeKw);
          this.CONSUME(T.LAngle);
          const value = this.SUBRULE(this.type);
          this.CONSUME(T.RAngle);
          return { kind: 'type' as const, value };
        },
      },
      {
        ALT: () => {
          const tok = this.CONSUME(T.LBracket);
          const items: SynAttrValue[] = [];
          this.MANY_SEP({ SEP: T.Comma, DEF: () => items.push(this.SUBRULE(this.attrValue)) });
          this.CONSUME(T.RBracket);
          let annot: IToken | undefined;
          this.OPTION(() => {
            this.CONSUME(T.Colon);
            annot = this.CONSUME(T.Ident);
          });
          return { kind: 'list' as const, tok, items, annot };
        },
      },
    ]);
  });

  /** Any literal; which kinds fit where is decided in parse.ts, with a message that says so. */
  scalar = this.RULE('scalar', (): IToken => this.CONSUME(T.Literal));

  tensorLit = this.RULE('tensorLit', (): SynTensor => {
    const type = this.SUBRULE(this.tensorType);
    const data = this.OR([
      {
        ALT: (): SynData => {
          const tok = this.CONSUME(T.Dense);
          this.CONSUME(T.LAngle);
          this.CONSUME(T.LBracket);
          const elems: IToken[] = [];
          this.MANY_SEP({ SEP: T.Comma, DEF: () => elems.push(this.CONSUME(T.Literal)) });
          this.CONSUME(T.RBracket);
          this.CONSUME(T.RAngle);
          return { kind: 'dense', tok, elems, fields: [] };
        },
      },
      {
        ALT: (): SynData => {
          const tok = this.CONSUME(T.AtName);
          this.CONSUME(T.LParen);
          const path = this.CONSUME(T.StringLit);
          const fields: SynData['fields'] = [];
          this.MANY(() => {
            this.CONSUME(T.Comma);
            const key = this.CONSUME(T.Ident);
            this.CONSUME(T.Equals);
            fields.push({ key, value: this.CONSUME(T.IntLit) });
          });
          this.CONSUME(T.RParen);
          return { kind: 'file', tok, elems: [path], fields };
        },
      },
    ]);
    return { type, data };
  });

  type = this.RULE('type', (): SynType => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.tensorType) },
      {
        ALT: () => {
          const tok = this.OR2([{ ALT: () => this.CONSUME(T.Seq) }, { ALT: () => this.CONSUME(T.Opt) }]);
          this.CONSUME(T.LAngle);
          const elem = this.SUBRULE(this.type);
          this.CONSUME(T.RAngle);
          return { kind: tok.image === 'seq' ? ('seq' as const) : ('opt' as const), tok, elem };
        },
      },
    ]);
  });

  tensorType = this.RULE('tensorType', (): SynType => {
    const tok = this.CONSUME(T.DTypeName);
    this.CONSUME(T.LBracket);
    const dims = this.OR([
      { ALT: () => (this.CONSUME(T.Star), null) },
      {
        ALT: () => {
          const ds: IToken[] = [];
          this.MANY_SEP({
            SEP: T.Comma,
            DEF: () =>
              ds.push(
                this.OR2([
                  { ALT: () => this.CONSUME(T.IntLit) },
                  { ALT: () => this.CONSUME(T.Ident) },
                  { ALT: () => this.CONSUME(T.StringLit) },
                  { ALT: () => this.CONSUME(T.Question) },
                ]),
              ),
          });
          return ds;
        },
      },
    ]);
    this.CONSUME(T.RBracket);
    return { kind: 'tensor', tok, dims };
  });
}

let instance: LirParser | undefined;
/** The shared parser (self-analysis is costly, so it is done once). */
export function lirParser(): LirParser {
  return (instance ??= new LirParser());
}
