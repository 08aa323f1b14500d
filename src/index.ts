/**
 * The mnas library: what the command line does, as functions with typed options, an AbortSignal
 * and callbacks, and no process-wide side effects (no signal handlers, no printing, no exit).
 *
 *   import { search, train, inspect, measure, exportOnnx, presets } from 'mnas';
 *
 * Errors a caller can cause (bad settings, a malformed architecture, a run in use) are
 * InputErrors, thrown before anything is created; anything else is a bug.
 */
export { search, type SearchOptions, type SearchResult, type SearchStartEvent, type TrialEvent } from './search/setup.js';
export type { SearchConfig, SearchConfigInput } from './search/config.js';
export type { FinalEpochEvent } from './search/final-training.js';
export { SearchSetupError } from './search/setup-error.js';
export { train, TrainSetupError, type TrainOptions, type TrainReport } from './train/train.js';
export { inspect, type Inspection } from './model/inspect.js';
export type { LayerCost } from './model/cost.js';
export { measureLatency as measure, type MeasureLatencyOptions, type LatencyMeasurement, type MeasuredNetwork } from './latency/measure.js';
export type { LatencyModel, LatencyResult, LatencyStats, MeasureProtocol, DeviceDescription, LatencyDevice } from './latency/device.js';
export { DEVICE_KINDS, type DeviceKind } from './latency/registry.js';
/** Writes an architecture as ONNX (default; BN folded, dynamic batch) or its weights as safetensors. */
export { exportToFile as exportOnnx, EXPORT_FORMATS, type ExportToFileOptions, type ExportSummary, type ExportFormat } from './model/export-file.js';
export { presets } from './space/preset-catalog.js';
export type { Preset } from './space/presets.js';
export { shippedModels, readModelsDir, ModelCardError, MODELS_DIR_ENV, type ShippedModel, type ModelCard } from './space/shipped-models.js';
export { spaceNames, getSpace, type SearchSpace } from './space/space.js';
export { parseArch, printArch } from './space/arch-string.js';
export type { Arch, InputShape } from './space/arch.js';
/** Runs on disk: their state and progress (also while a search writes them), every trial, the report, a clean stop. */
export { summarizeRun, findRunDirs, NotARunError, type RunSummary, type RunState } from './runs/summary.js';
export { listRuns, type RunsList } from './runs/list.js';
export { runDetails, type RunDetails } from './runs/details.js';
export { readRunTrials, trialsCsv, trialsJson, TRIAL_EXPORT_FORMATS, type TrialExportFormat } from './runs/trials-export.js';
export { rewriteReport, type RewrittenReport } from './runs/report.js';
export { stopRun, type StopOptions, type StopResult } from './runs/stop.js';
export type { TrialPoint } from './search/trial-points.js';
export type { TrialRecord, TrialBrief, TrialStatus } from './search/run-store.js';
export { InputError, isInputError } from './util/input-error.js';
export { ArchError } from './space/arch-error.js';
export { LimitError } from './model/limits.js';
