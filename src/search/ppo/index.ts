/** The 'ppo' strategy: its controller, the PPO update and the strategy itself. */
export { Controller, pick, type ControllerConfig, type ControllerSample, type ControllerEvaluation } from './controller.js';
export { EmaBaseline, ppoLoss, ppoUpdate, type PpoSample, type PpoSettings, type PpoStats } from './ppo.js';
export { PpoSearch, PPO_DEFAULTS, PPO_SEARCH, type PpoOptions, type PpoConfig } from './strategy.js';
