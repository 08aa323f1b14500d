/**
 * A model's latency from several passes of measuring it, minutes apart: the pair taken at the
 * device's fast speed, and of those the lowest ratio.
 *
 * The default's speed in a pair shows a slow mode of the whole machine (speed-mode.ts), but not
 * every disturbance slows the small default: on 2026-12-05 (ort-cpu fmnist, run 47) a spell of
 * about 35 models slowed the big, memory-heavy ones by 8-26% while the default in their pairs ran
 * at its usual speed, and their ratios went up by as much. A disturbance only ever adds time, so
 * the lower of two ratios measured minutes apart is the model's own, as the 10th percentile of a
 * pair's runs is (interleaved.ts).
 */
import type { MeasuredArch } from './predictor.js';
import { atSameSpeed } from './repeatability.js';
import { fastSpeedMs } from './speed-mode.js';

/**
 * One measurement per model from `passes` (each pass the same models in the same order): where the
 * models were measured interleaved, the pair whose reference ran at the fast speed over all the
 * pairs (any pair when none did) with the lowest ratio, in ms at that fast speed; otherwise the
 * lowest latency.
 */
export function fastestOfPasses(passes: readonly (readonly MeasuredArch[])[]): { measured: MeasuredArch[]; referenceMs?: number } {
  if (passes.length === 0) throw new RangeError('fastestOfPasses: no passes');
  const n = passes[0]!.length;
  if (passes.some((p) => p.length !== n)) throw new RangeError(`fastestOfPasses: passes of ${passes.map((p) => p.length).join(', ')} models`);
  const all = passes.flat();
  const interleaved = all.length > 0 && all.every((m) => m.ratio !== undefined && m.reference_ms !== undefined);
  if (!interleaved) return { measured: Array.from({ length: n }, (_, i) => lowest(passes.map((p) => p[i]!), (m) => m.measured_ms)) };
  const referenceMs = fastSpeedMs(all.map((m) => m.reference_ms!));
  const measured = Array.from({ length: n }, (_, i) => {
    const pairs = passes.map((p) => p[i]!);
    const atSpeed = pairs.filter((m) => atSameSpeed(m.reference_ms!, referenceMs));
    const m = lowest(atSpeed.length > 0 ? atSpeed : pairs, (p) => p.ratio!);
    return { ...m, measured_ms: m.ratio! * referenceMs };
  });
  return { measured, referenceMs };
}

function lowest(ms: readonly MeasuredArch[], by: (m: MeasuredArch) => number): MeasuredArch {
  return ms.reduce((a, b) => (by(b) < by(a) ? b : a));
}
