/** The 'ppo' strategy (importing this module registers it with createStrategy). */
export { Controller, pick, type ControllerConfig, type ControllerSample, type ControllerEvaluation } from './controller.js';
export { EmaBaseline, ppoLoss, ppoUpdate, type PpoSample, type PpoSettings, type PpoStats } from './ppo.js';
export { PpoSearch, PPO_DEFAULTS, type PpoOptions, type PpoConfig } from './strategy.js';
