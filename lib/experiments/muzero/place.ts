/** MuZero's place on the survey's map (Moerland et al. 2020), shared by its experiments. */
import type { SurveyPlace } from "../taxonomy.ts";

export const MUZERO_PLACE: SurveyPlace = {
  model: "learned",
  modelPredicts: "reward, value and policy of latent states, trained only on those targets",
  representation: "latent, value-equivalent",
  planningStart: "current state",
  planningBudget: "a fixed number of MCTS simulations per move",
  search: "tree search (MCTS)",
  serves: "acting and learning",
};
