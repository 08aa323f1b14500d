/**
 * The MnasNet / NASNet RNN controller: a one-layer LSTM that emits the DNA one decision at a
 * time. Step i reads an input vector, advances the LSTM and turns the hidden state into a softmax
 * over decision i's choices (its own linear head: decisions have different numbers of choices);
 * the chosen index goes through a learned embedding (one table row per (decision, choice)) and
 * becomes the input of step i + 1. The first input is a learned start vector. Every weight is
 * drawn from U[-initRange, initRange] (paper: 0.1) by a Generator seeded from the config, so a
 * seed fixes the initial policy.
 *
 * Storage: all heads live in one [sum(choiceCounts), hidden] matrix (and one bias) and all embeddings
 * in one [sum(choiceCounts), embedding] table; decision i owns rows offsets[i] .. offsets[i] + k_i.
 *
 * Sampling runs without gradients and draws each choice from the softmax with uniforms supplied
 * by the caller (the strategy's Rng), so sampling is reproducible and resumable from the Rng
 * state alone. `evaluate()` re-runs the LSTM teacher-forced on a batch of DNAs with gradients,
 * for the PPO update.
 */
import {
  Generator,
  LSTMCell,
  Module,
  expand,
  gather,
  indexSelect,
  int64Tensor,
  linear,
  logSoftmax,
  mul,
  neg,
  exp,
  noGrad,
  slice,
  stack,
  sum,
  tidy,
  uniform_,
  zeros,
  type Tensor,
} from '../../torch/index.js';

export interface ControllerConfig {
  /** Number of choices of each decision, in DNA order. */
  readonly choiceCounts: readonly number[];
  /** LSTM hidden units (paper: 100). */
  readonly hiddenSize?: number;
  /** Size of the choice embeddings fed back as input (default: hiddenSize). */
  readonly embeddingSize?: number;
  /** Weights are drawn from U[-initRange, initRange] (paper: 0.1). */
  readonly initRange?: number;
  /** Seed of the initial weights (a non-negative integer). */
  readonly seed: number;
}

export interface ControllerSample {
  readonly dna: number[];
  /** log pi(choice_i | choices_<i) for each decision, as computed while sampling. */
  readonly logProbs: number[];
}

/** Per-decision log-probabilities and entropies of a batch of DNAs (tensors with gradients). */
export interface ControllerEvaluation {
  /** [batch, decisions]: log pi(dna[b][i] | dna[b][<i]). */
  readonly logProbs: Tensor;
  /** [batch, decisions]: entropy of decision i's softmax given dna[b][<i]. */
  readonly entropies: Tensor;
}

export class Controller extends Module {
  /** Number of choices of each decision, in DNA order. */
  readonly choiceCounts: readonly number[];
  readonly hiddenSize: number;
  readonly embeddingSize: number;
  readonly initRange: number;
  /** Row of decision i's first choice in the packed head and embedding tables. */
  readonly offsets: readonly number[];
  private readonly lstm: LSTMCell;

  constructor(config: ControllerConfig) {
    super();
    const { choiceCounts } = config;
    if (choiceCounts.length === 0) throw new Error('Controller: need at least one decision');
    choiceCounts.forEach((k, i) => {
      if (!Number.isInteger(k) || k < 1) throw new Error(`Controller: decision ${i} must have an integer number of choices >= 1, got ${k}`);
    });
    this.choiceCounts = Object.freeze(choiceCounts.slice());
    this.hiddenSize = config.hiddenSize ?? 100;
    this.embeddingSize = config.embeddingSize ?? this.hiddenSize;
    this.initRange = config.initRange ?? 0.1;
    for (const [name, v] of [['hiddenSize', this.hiddenSize], ['embeddingSize', this.embeddingSize]] as const)
      if (!Number.isInteger(v) || v < 1) throw new Error(`Controller: ${name} must be a positive integer, got ${v}`);
    if (!(this.initRange > 0 && Number.isFinite(this.initRange))) throw new Error(`Controller: initRange must be a finite number > 0, got ${this.initRange}`);
    if (!Number.isInteger(config.seed) || config.seed < 0) throw new Error(`Controller: seed must be a non-negative integer, got ${config.seed}`);

    const offsets: number[] = [];
    let total = 0;
    for (const k of this.choiceCounts) {
      offsets.push(total);
      total += k;
    }
    this.offsets = Object.freeze(offsets);

    const gen = new Generator(config.seed);
    const r = this.initRange;
    const init = (shape: number[]) => uniform_(zeros(shape), -r, r, gen);
    try {
      tidy(() => {
        this.registerParameter('start', init([1, this.embeddingSize]));
        this.registerParameter('embedding', init([total, this.embeddingSize]));
        this.registerParameter('head_weight', init([total, this.hiddenSize]));
        this.registerParameter('head_bias', init([total]));
      });
      this.lstm = this.registerModule('lstm', new LSTMCell({ inputSize: this.embeddingSize, hiddenSize: this.hiddenSize, initRange: r, generator: gen }));
    } finally {
      gen.dispose();
    }
  }

  get decisions(): number {
    return this.choiceCounts.length;
  }

  /** Logits of decision i from hidden states h [B, hidden]: [B, k_i]. */
  private logits(i: number, h: Tensor): Tensor {
    const lo = this.offsets[i]!;
    const hi = lo + this.choiceCounts[i]!;
    return linear(h, slice(this.param('head_weight'), 0, lo, hi), slice(this.param('head_bias'), 0, lo, hi));
  }

  /** Embeddings of choices c[b] of decision i: [B, embedding]. */
  private embed(i: number, c: readonly number[]): Tensor {
    const off = this.offsets[i]!;
    return indexSelect(this.param('embedding'), 0, int64Tensor(c.map((x) => x + off)));
  }

  /**
   * Samples one DNA. `uniform()` must return numbers in [0, 1) (one per decision, in order);
   * choice c is picked when the running sum of probabilities first exceeds the uniform.
   */
  sample(uniform: () => number): ControllerSample {
    return tidy(() =>
      noGrad(() => {
        const dna: number[] = [];
        const logProbs: number[] = [];
        let x = this.param('start');
        let [h, c] = this.lstm.zeroState(1);
        for (let i = 0; i < this.decisions; i++) {
          [h, c] = this.lstm.forward(x, h, c);
          const lp = logSoftmax(this.logits(i, h), 1).toFloat32Array();
          const choice = pick(lp, uniform());
          dna.push(choice);
          logProbs.push(lp[choice]!);
          x = this.embed(i, [choice]);
        }
        return { dna, logProbs };
      }),
    );
  }

  /** Teacher-forced pass over a batch of DNAs, with gradients (the caller owns the scope). */
  evaluate(dnas: readonly (readonly number[])[]): ControllerEvaluation {
    const B = dnas.length;
    if (B === 0) throw new Error('Controller.evaluate: empty batch');
    dnas.forEach((d, b) => {
      if (d.length !== this.decisions) throw new Error(`Controller.evaluate: DNA ${b} has ${d.length} entries, expected ${this.decisions}`);
      d.forEach((c, i) => {
        if (!Number.isInteger(c) || c < 0 || c >= this.choiceCounts[i]!) throw new Error(`Controller.evaluate: DNA ${b} has choice ${c} at decision ${i}, outside [0, ${this.choiceCounts[i]})`);
      });
    });
    let x = expand(this.param('start'), [B, this.embeddingSize]);
    let [h, c] = this.lstm.zeroState(B);
    const lps: Tensor[] = [];
    const ents: Tensor[] = [];
    for (let i = 0; i < this.decisions; i++) {
      [h, c] = this.lstm.forward(x, h, c);
      const lp = logSoftmax(this.logits(i, h), 1);
      const col = dnas.map((d) => d[i]!);
      lps.push(gather(lp, 1, int64Tensor(col, [B, 1])));
      ents.push(neg(sum(mul(exp(lp), lp), [1], true)));
      x = this.embed(i, col);
    }
    return { logProbs: stack(lps, 1).reshape([B, this.decisions]), entropies: stack(ents, 1).reshape([B, this.decisions]) };
  }
}

/** Inverse-CDF draw from log-probabilities (float64 accumulation; the last choice absorbs rounding). */
export function pick(logProbs: Float32Array | readonly number[], u: number): number {
  let acc = 0;
  const last = logProbs.length - 1;
  for (let c = 0; c < last; c++) {
    acc += Math.exp(logProbs[c]!);
    if (u < acc) return c;
  }
  return last;
}
