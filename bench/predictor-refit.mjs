// A latency table's predictor refitted offline on its own calibration models, with every feature
// and without each feature named, each fit then predicting the models a `latency eval` measured
// (its --json output, brought back to the calibration's speed as drift_free is). No device time.
//
//   node bench/predictor-refit.mjs TABLE.json EVAL.json [FEATURE...]
//
// e.g. node bench/predictor-refit.mjs t.json eval.json weights_m identity_add_melements
import { readFileSync } from 'node:fs';
import { buildPlan } from '../dist/src/model/plan.js';
import { parseArch } from '../dist/src/space/arch-string.js';
import { getSpace } from '../dist/src/space/space.js';
import { LatencyPredictor, robustFeatureFit, sampleArchs } from '../dist/src/latency/predictor.js';
import { PREDICTOR_FEATURES } from '../dist/src/latency/model-features.js';
import { predictLinear } from '../dist/src/latency/linear-fit.js';
import { CALIBRATION_SEED } from '../dist/src/latency/table-workflows.js';

const [tableFile, evalFile, ...drop] = process.argv.slice(2);
const unknown = drop.filter((f) => !PREDICTOR_FEATURES.includes(f));
if (!tableFile || !evalFile || unknown.length) {
  console.error(unknown.length ? `unknown feature(s): ${unknown.join(', ')} (known: ${PREDICTOR_FEATURES.join(', ')})` : 'usage: node bench/predictor-refit.mjs TABLE.json EVAL.json [FEATURE...]');
  process.exit(2);
}
const table = JSON.parse(readFileSync(tableFile, 'utf8'));
const evaluation = JSON.parse(readFileSync(evalFile, 'utf8').trim().split('\n').at(-1));
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

const summary = (errors) =>
  `within 10% ${((100 * errors.filter((e) => Math.abs(e) <= 10).length) / errors.length).toFixed(0)}%, mean error ${(errors.reduce((a, e) => a + Math.abs(e), 0) / errors.length).toFixed(2)}%, worst ${Math.max(...errors.map(Math.abs)).toFixed(1)}%`;
for (const without of [null, ...drop]) {
  const names = PREDICTOR_FEATURES.filter((f) => f !== without);
  const row = (arch) => predictor.featureValues(buildPlan(arch), names);
  const coefficients = robustFeatureFit(calibrationArchs.map(row), calibrationMs);
  const errors = (archs, ms) => archs.map((a, i) => (100 * (predictLinear({ coefficients }, row(a)) - ms[i])) / ms[i]);
  console.log(`${without ? `without ${without}` : 'every feature'}: fit ${summary(errors(calibrationArchs, calibrationMs))} | evaluated ${summary(errors(evaluatedArchs, evaluatedMs))}`);
}
