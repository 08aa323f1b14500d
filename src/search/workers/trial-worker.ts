/**
 * Entry point of a trial-worker process (forked by WorkerPool): loads the search's data once,
 * then runs the proxy trials it is sent, one at a time. While the search process measures latency
 * it stops this process (SIGSTOP, ./process-stop.ts) and then says for how long, which the
 * training throughput leaves out. Exits when told to or when its parent goes away; killed by the
 * kernel if the parent dies while this process is stopped.
 */
import { buildPlan } from '../../model/plan.js';
import { parseArch } from '../../space/arch-string.js';
import { exitWithParent } from '../../torch/process-guard.js';
import { ProxyTrialRunner } from '../proxy-trial.js';
import type { FromWorker, ToWorker } from './messages.js';
import { StopLog } from './stop-log.js';

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

let runner: ProxyTrialRunner | undefined;
const running = new Map<number, AbortController>();
const stops = new StopLog();

async function runTrial(id: number, m: Extract<ToWorker, { type: 'trial' }>): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const plan = buildPlan(parseArch(m.spec.arch));
    const result = await runner!.run({ plan, seed: m.spec.seed }, { signal: controller.signal, stops });
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
        // a worker whose parent died before it could arm this would outlive it
        if (!exitWithParent(m.parentPid)) throw new Error(`the search process ${m.parentPid} has gone`);
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
    case 'continued':
      stops.add(m);
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
