// The CUDA lowerings that need no kernel: results that are an operand's bytes seen with another
// shape (aliases), and results known when compiling (Constant, Shape, Size; ../../folds.ts).
import { ONNX_DOMAIN } from '../../../ir/graph.ts';
import { foldConstant, foldShape, foldSize } from '../../folds.ts';
import { defineCudaFold, defineOnnxCuda } from '../lowering.ts';

defineOnnxCuda(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'], () => ({ alias: [{ output: 0, input: 0 }] }));
defineCudaFold(ONNX_DOMAIN, 'Constant', foldConstant);
defineCudaFold(ONNX_DOMAIN, 'Shape', foldShape);
defineCudaFold(ONNX_DOMAIN, 'Size', foldSize);
