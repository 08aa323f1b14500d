/**
 * Module: a tree of named parameters, buffers and child modules with train/eval mode and
 * state save/load, in the spirit of torch.nn.Module. Parameters and buffers are kept (exempt
 * from tidy scopes) and live until module.dispose().
 */
import { Tensor, tidy } from '../tensor.js';

export abstract class Module {
  training = true;
  private readonly paramMap = new Map<string, Tensor>();
  private readonly bufferMap = new Map<string, Tensor>();
  private readonly childMap = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor): Tensor {
    checkName(name, this.paramMap, this.bufferMap, this.childMap);
    t.keep();
    t.requiresGrad = true;
    this.paramMap.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    checkName(name, this.paramMap, this.bufferMap, this.childMap);
    t.keep();
    this.bufferMap.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    checkName(name, this.paramMap, this.bufferMap, this.childMap);
    this.childMap.set(name, m);
    return m;
  }

  /** Replaces a parameter's tensor (same name, e.g. after a layout change). */
  protected replaceParameter(name: string, t: Tensor): Tensor {
    const old = this.paramMap.get(name);
    if (!old) throw new Error(`replaceParameter: no parameter '${name}'`);
    t.keep();
    t.requiresGrad = true;
    this.paramMap.set(name, t);
    old.dispose();
    return t;
  }

  /** The parameter registered under name (throws if there is none). */
  protected param(name: string): Tensor {
    const p = this.paramMap.get(name);
    if (!p) throw new Error(`no parameter '${name}'`);
    return p;
  }

  protected optionalParam(name: string): Tensor | null {
    return this.paramMap.get(name) ?? null;
  }

  protected buffer(name: string): Tensor {
    const b = this.bufferMap.get(name);
    if (!b) throw new Error(`no buffer '${name}'`);
    return b;
  }

  children(): [string, Module][] {
    return [...this.childMap.entries()];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.paramMap) out.push([prefix + n, p]);
    for (const [n, m] of this.childMap) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.bufferMap) out.push([prefix + n, b]);
    for (const [n, m] of this.childMap) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Total number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.childMap.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's parameters and buffers. With strict (default), missing
   * and unexpected keys are errors; shapes must always match. Nothing is changed on error.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, t] of own) {
      const src = state.get(k);
      if (!src) {
        if (strict) problems.push(`missing key '${k}'`);
      } else if (src.shape.join('x') !== t.shape.join('x')) {
        problems.push(`'${k}': shape [${src.shape}] does not match the module's [${t.shape}]`);
      }
    }
    if (strict) for (const k of state.keys()) if (!own.has(k)) problems.push(`unexpected key '${k}'`);
    if (problems.length) throw new Error(`loadStateDict: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (+${problems.length - 10} more)` : ''}`);
    tidy(() => {
      for (const [k, t] of own) {
        const src = state.get(k);
        if (src) t.copyFrom(src.dtype === t.dtype ? src : src.to(t.dtype));
      }
    });
  }

  /**
   * Converts 4-D parameters to channels_last memory, as PyTorch's module.to(memory_format=...):
   * always restrided, because a weight like [C, 1, 3, 3] counts as channels_last-contiguous with
   * NCHW strides, and convolutions choose their layout from the strides.
   */
  toChannelsLast(): this {
    for (const [n, p] of [...this.paramMap]) {
      if (p.rank === 4) {
        const q = tidy(() => p.detach().restride('channels_last'));
        this.replaceParameter(n, q);
      }
    }
    for (const m of this.childMap.values()) m.toChannelsLast();
    return this;
  }

  /** Frees every parameter and buffer of this module tree. */
  dispose(): void {
    for (const p of this.paramMap.values()) p.dispose();
    for (const b of this.bufferMap.values()) b.dispose();
    for (const m of this.childMap.values()) m.dispose();
  }
}

/** A module with one input and one output, composable in Sequential. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

function checkName(name: string, ...maps: Map<string, unknown>[]): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`module member name '${name}' must be alphanumeric or _`);
  for (const m of maps) if (m.has(name)) throw new Error(`module member '${name}' is already registered`);
}
