/**
 * `mnas bench <name>`: benchmarks that print figures (the code is in src/bench/). Each subcommand
 * lives in its own file under ./bench/ and registers itself here.
 */
import type { Command } from 'commander';
import { registerBenchDashboard } from './bench/dashboard.js';
import { registerBenchDistributedOverhead } from './bench/distributed-overhead.js';
import { registerBenchDistributedScale } from './bench/distributed-scale.js';
import { registerBenchFuzz } from './bench/fuzz.js';
import { registerBenchLatencyStability } from './bench/latency-stability.js';
import { registerBenchModels } from './bench/models.js';
import { registerBenchPredictedMeasured } from './bench/predicted-measured.js';
import { registerBenchPredictorFit } from './bench/predictor-fit.js';
import { registerBenchProxy } from './bench/proxy.js';
import { registerBenchProxyFidelity } from './bench/proxy-fidelity.js';
import { registerBenchRecipe } from './bench/recipe.js';
import { registerBenchSearchLatency } from './bench/search-latency.js';
import { registerBenchStrategies } from './bench/strategies.js';
import { registerBenchTrain } from './bench/train.js';
import { registerBenchTrainVsPytorch } from './bench/train-vs-pytorch.js';
// subcommands: one import per subcommand above, one register call per subcommand below (keep sorted)

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks of the engine, of latency measurement and of search trials');
  registerBenchDashboard(bench);
  registerBenchDistributedOverhead(bench);
  registerBenchDistributedScale(bench);
  registerBenchFuzz(bench);
  registerBenchLatencyStability(bench);
  registerBenchModels(bench);
  registerBenchPredictedMeasured(bench);
  registerBenchPredictorFit(bench);
  registerBenchProxy(bench);
  registerBenchProxyFidelity(bench);
  registerBenchRecipe(bench);
  registerBenchSearchLatency(bench);
  registerBenchStrategies(bench);
  registerBenchTrain(bench);
  registerBenchTrainVsPytorch(bench);
}
