// Registers every WGSL lowering: one import per op family file (each calls defineWgsl /
// defineOnnxWgsl at load). Add a line per new family file.
import { registerPlainAdd } from './basic.ts';
import './elementwise.ts';
import './reduce.ts';
import './softmax.ts';
import './norm.ts';
import './movement.ts';
import './scatter.ts';
import '../fuse.ts';
import './matmul.ts';
import './conv.ts';
import './pool.ts';
import './attention.ts';
import './extra.ts';
import './loss.ts';
import './quant.ts';
import './resize.ts';
import './grid-sample.ts';
import './rnn.ts';
import './topk.ts';
import './misc.ts';
import './signal.ts';
import './scan.ts';
import './svdquant.ts';

// After every family file: the plain Add kernel stands in only where no family lowers Add.
registerPlainAdd();
