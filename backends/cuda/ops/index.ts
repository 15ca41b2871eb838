// Registers every CUDA lowering: one import per op family file (each calls defineCuda /
// defineOnnxCuda at load). Add a line per new family file.
import './basic.ts';
import './matmul.ts';
import './movement.ts';
import './scatter.ts';
import './extra.ts';
import './elementwise.ts';
import './reduce.ts';
import './rows-softmax.ts';
import './norm.ts';
import './reduce-cumsum.ts';
import './conv.ts';
import './attention.ts';
import './pool.ts';
import './resize.ts';
import './quant.ts';
import './loss.ts';
import './einsum.ts';
import './extra2.ts';
import './grid-sample.ts';
import './rnn.ts';
import './topk.ts';
import './misc.ts';
import './signal.ts';
import './svdquant.ts';
