// A worker thread of passes/svdquant/parallel.ts: quantizes the layers it is sent.
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import type { LayerJob } from './layer.ts';
import { quantizeLayer } from './layer.ts';

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

function reply(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on('message', (job: LayerJob) => {
  try {
    const r = quantizeLayer(job);
    const buffers = [r.weight.q, r.weight.s, r.invSmooth, r.l1, r.l2].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
    reply({ result: r }, buffers);
  } catch (e) {
    reply({ error: e instanceof Error ? e.message : String(e) });
  }
});
reply({ ready: true });
