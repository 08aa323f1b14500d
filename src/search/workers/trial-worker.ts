/**
 * Entry point of a trial-worker process (forked by WorkerPool): loads the search's data once,
 * then runs the proxy trials it is sent, one at a time, pausing between training steps while
 * the search process holds training off for a latency measurement. Exits when told to or when
 * its parent goes away.
 */
import { buildPlan } from '../../model/plan.js';
import { parseArch } from '../../space/arch-string.js';
import { deferredStepsIdle } from '../../train/deferred-steps.js';
import { ProxyTrialRunner, TrainingHold } from '../proxy-trial.js';
import type { FromWorker, ToWorker } from './messages.js';

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

let runner: ProxyTrialRunner | undefined;
const hold = new TrainingHold();
let releaseHold: (() => void) | undefined;
const running = new Map<number, AbortController>();

/** Closes the gate (once, however many holds arrive); resolves when no onnxruntime call of an evaluation is still running. */
function startHold(): Promise<void> {
  if (!releaseHold) {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    releaseHold = release;
    void hold.holdWhile(() => released);
  }
  return deferredStepsIdle();
}

async function runTrial(id: number, m: Extract<ToWorker, { type: 'trial' }>): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const plan = buildPlan(parseArch(m.spec.arch));
    const result = await runner!.run({ plan, seed: m.spec.seed }, { signal: controller.signal, hold: hold.gate });
    send({ type: 'result', id, result });
  } catch (e) {
    if (controller.signal.aborted) send({ type: 'aborted', id });
    else send({ type: 'trial-error', id, message: e instanceof Error ? e.message : String(e) });
  } finally {
    running.delete(id);
  }
}

process.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      try {
        runner = ProxyTrialRunner.load(m.settings);
        send({ type: 'ready', pid: process.pid });
      } catch (e) {
        send({ type: 'init-failed', message: e instanceof Error ? e.message : String(e) });
        process.exitCode = 1;
        process.disconnect();
      }
      break;
    case 'trial':
      void runTrial(m.id, m);
      break;
    case 'cancel':
      running.get(m.id)?.abort(new Error('trial cancelled'));
      break;
    case 'hold':
      // no libtorch step is running while this handler runs (they are synchronous and yield in
      // between); an evaluation's onnxruntime call may have been made and not ended: held once it has
      void startHold().then(() => send({ type: 'held' }));
      break;
    case 'release':
      releaseHold?.();
      releaseHold = undefined;
      break;
    case 'exit':
      for (const c of running.values()) c.abort(new Error('worker exiting'));
      runner?.dispose();
      process.disconnect();
      break;
  }
});

// the search process died or closed the channel: nothing to report to any more
process.on('disconnect', () => process.exit(process.exitCode ?? 0));
// Ctrl-C reaches the whole process group; the search process decides what stops (it keeps
// interrupted trials pending for --resume and closes the workers)
process.on('SIGINT', () => {});
