/**
 * Evolution strategies: CMA-ES (Hansen 2016) with its symmetric eigensolver, OpenAI-ES (Salimans
 * et al. 2017), and a pool that
 * spreads fitness evaluation over all cores, as the World Models paper (Ha & Schmidhuber 2018)
 * evolves its controllers.
 */
export { CmaEs, WORLD_MODELS_CMA_SETTINGS } from "./cmaes.ts";
export type { CmaEsBest, CmaEsOptions } from "./cmaes.ts";
export { centredRanks, OpenAiEs } from "./openai_es.ts";
export type { OpenAiEsOptions } from "./openai_es.ts";
export { symmetricEigen } from "./eigen.ts";
export type { SymmetricEigen } from "./eigen.ts";
export { availableCores, FitnessPool } from "./parallel.ts";
export type {
  EvaluateOptions,
  FitnessModule,
  FitnessPoolOptions,
  FitnessTask,
} from "./parallel.ts";
