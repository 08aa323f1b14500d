// A latency table's predictor refitted offline on its own calibration models, with every feature
// and without each feature named (FEATURE,FEATURE drops them together), each fit then predicting the models a `latency eval` measured
// (its --json output, brought back to the calibration's speed as drift_free is). No device time.
//
//   node bench/predictor-refit.mjs TABLE.json[.gz] EVAL.json[.gz] [FEATURE...]
//
// e.g. node bench/predictor-refit.mjs t.json eval.json weights_m weights_beyond_200k,weights_beyond_500k
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { getSpace } from '../dist/src/space/space.js';
import { evaluatePredictor, LatencyPredictor, robustFeatureFit, sampleArchs } from '../dist/src/latency/predictor.js';
import { PREDICTOR_FEATURES } from '../dist/src/latency/model-features.js';
import { CALIBRATION_SEED } from '../dist/src/latency/table-workflows.js';

const [tableFile, evalFile, ...drop] = process.argv.slice(2);
const unknown = drop.flatMap((f) => f.split(',')).filter((f) => !PREDICTOR_FEATURES.includes(f));
if (!tableFile || !evalFile || unknown.length) {
  console.error(unknown.length ? `unknown feature(s): ${unknown.join(', ')} (known: ${PREDICTOR_FEATURES.join(', ')})` : 'usage: node bench/predictor-refit.mjs TABLE.json EVAL.json [FEATURE...]');
  process.exit(2);
}
// either may be gzipped (bench/results/latency-tables-*/ keeps them so)
const read = (file) => (file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString('utf8');
const table = JSON.parse(read(tableFile));
const evaluation = JSON.parse(read(evalFile).trim().split('\n').at(-1));
if (!table.calibration?.points) {
  console.error(`${tableFile}: not a calibrated latency table`);
  process.exit(2);
}
const space = getSpace(table.space);
const predictor = new LatencyPredictor({ ...table, calibration: undefined });
// the calibration models, in the order of calibration.points (table-workflows.ts)
const calibrationArchs = sampleArchs(space, table.calibration.points.length, CALIBRATION_SEED);
const calibrationMs = table.calibration.points.map((p) => p[1]);
const toCalibrationSpeed = evaluation.reference?.tableMs && evaluation.reference?.ms ? evaluation.reference.tableMs / evaluation.reference.ms : 1;
const evaluatedArchs = evaluation.models.map((m) => parseArch(m.arch));
const evaluatedMs = evaluation.models.map((m) => m.measured_ms * toCalibrationSpeed);

const measured = (archs, ms) => archs.map((arch, i) => ({ arch, measured_ms: ms[i], converged: true }));
const summary = (r) => `within 10% ${(100 * r.within_10pct).toFixed(0)}%, mean error ${r.mean_abs_pct_error.toFixed(2)}%, worst ${r.max_abs_pct_error.toFixed(1)}%`;
for (const without of [null, ...drop]) {
  const dropped = without ? without.split(',') : [];
  const features = PREDICTOR_FEATURES.filter((f) => !dropped.includes(f));
  const coefficients = robustFeatureFit(calibrationArchs.map((arch) => predictor.featureValues(buildPlan(arch), features)), calibrationMs);
  const refitted = new LatencyPredictor({ ...table, calibration: { ...table.calibration, features, coefficients } });
  const fit = evaluatePredictor(refitted, measured(calibrationArchs, calibrationMs));
  const evaluated = evaluatePredictor(refitted, measured(evaluatedArchs, evaluatedMs));
  console.log(`${without ? `without ${without}` : 'every feature'}: fit ${summary(fit)} | evaluated ${summary(evaluated)}`);
}
