// What a model response costs, without the network: a dated table of the prices of the models Codex
// uses, in LiteLLM's price-file shape (USD per token), which `--pricing FILE` overrides or extends
// with a file of the same shape (LiteLLM's own `model_prices_and_context_window.json` will do).
// A model, tier or context length the table does not price has no cost: never a guessed one.
import { readFileSync } from 'node:fs';
import { RolloutError } from '../cli/errors.js';
import { isObject } from '../core/record.js';
import type { Tokens } from '../core/token-usage.js';

/** The day the bundled prices were copied from LiteLLM's price file (`model_prices_and_context_window.json` of BerriAI/litellm at commit 00035b69f416): every plain OpenAI entry of the GPT-5 and Codex families, and the older models Codex ran. */
export const PRICES_AS_OF = '2026-12-04';

/** An entry of a LiteLLM price file, as far as it is read here: `<base>[_above_272k_tokens][_priority|_flex]`. */
export type PriceEntry = Record<string, number>;

const BUNDLED: Record<string, PriceEntry> = {
  'codex-mini-latest': { cache_read_input_token_cost: 3.75e-7, input_cost_per_token: 1.5e-6, output_cost_per_token: 6e-6 },
  'gpt-4.1': {
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_priority: 8.75e-7,
    input_cost_per_token: 2e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 8e-6,
    output_cost_per_token_priority: 1.4e-5,
  },
  'gpt-4.1-mini': {
    cache_read_input_token_cost: 1e-7,
    cache_read_input_token_cost_priority: 1.75e-7,
    input_cost_per_token: 4e-7,
    input_cost_per_token_priority: 7e-7,
    output_cost_per_token: 1.6e-6,
    output_cost_per_token_priority: 2.8e-6,
  },
  'gpt-4o': {
    cache_read_input_token_cost: 1.25e-6,
    cache_read_input_token_cost_priority: 2.125e-6,
    input_cost_per_token: 2.5e-6,
    input_cost_per_token_priority: 4.25e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_priority: 1.7e-5,
  },
  'gpt-5': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_flex: 6.25e-8,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_flex: 6.25e-7,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_flex: 5e-6,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5-2025-08-07': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_flex: 6.25e-8,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_flex: 6.25e-7,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_flex: 5e-6,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5-chat': { cache_read_input_token_cost: 1.25e-7, input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5 },
  'gpt-5-chat-latest': { cache_read_input_token_cost: 1.25e-7, input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5 },
  'gpt-5-codex': { cache_read_input_token_cost: 1.25e-7, input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5 },
  'gpt-5-mini': {
    cache_read_input_token_cost: 2.5e-8,
    cache_read_input_token_cost_flex: 1.25e-8,
    cache_read_input_token_cost_priority: 4.5e-8,
    input_cost_per_token: 2.5e-7,
    input_cost_per_token_flex: 1.25e-7,
    input_cost_per_token_priority: 4.5e-7,
    output_cost_per_token: 2e-6,
    output_cost_per_token_flex: 1e-6,
    output_cost_per_token_priority: 3.6e-6,
  },
  'gpt-5-mini-2025-08-07': {
    cache_read_input_token_cost: 2.5e-8,
    cache_read_input_token_cost_flex: 1.25e-8,
    cache_read_input_token_cost_priority: 4.5e-8,
    input_cost_per_token: 2.5e-7,
    input_cost_per_token_flex: 1.25e-7,
    input_cost_per_token_priority: 4.5e-7,
    output_cost_per_token: 2e-6,
    output_cost_per_token_flex: 1e-6,
    output_cost_per_token_priority: 3.6e-6,
  },
  'gpt-5-nano': {
    cache_read_input_token_cost: 5e-9,
    cache_read_input_token_cost_flex: 2.5e-9,
    input_cost_per_token: 5e-8,
    input_cost_per_token_flex: 2.5e-8,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 4e-7,
    output_cost_per_token_flex: 2e-7,
  },
  'gpt-5-nano-2025-08-07': {
    cache_read_input_token_cost: 5e-9,
    cache_read_input_token_cost_flex: 2.5e-9,
    input_cost_per_token: 5e-8,
    input_cost_per_token_flex: 2.5e-8,
    output_cost_per_token: 4e-7,
    output_cost_per_token_flex: 2e-7,
  },
  'gpt-5-pro': { input_cost_per_token: 1.5e-5, output_cost_per_token: 0.00012 },
  'gpt-5-pro-2025-10-06': { input_cost_per_token: 1.5e-5, output_cost_per_token: 0.00012 },
  'gpt-5.1': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5.1-2025-11-13': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5.1-chat-latest': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5.1-codex': {
    cache_read_input_token_cost: 1.25e-7,
    cache_read_input_token_cost_priority: 2.5e-7,
    input_cost_per_token: 1.25e-6,
    input_cost_per_token_priority: 2.5e-6,
    output_cost_per_token: 1e-5,
    output_cost_per_token_priority: 2e-5,
  },
  'gpt-5.1-codex-max': { cache_read_input_token_cost: 1.25e-7, input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5 },
  'gpt-5.1-codex-mini': {
    cache_read_input_token_cost: 2.5e-8,
    cache_read_input_token_cost_priority: 4.5e-8,
    input_cost_per_token: 2.5e-7,
    input_cost_per_token_priority: 4.5e-7,
    output_cost_per_token: 2e-6,
    output_cost_per_token_priority: 3.6e-6,
  },
  'gpt-5.2': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.2-2025-12-11': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.2-chat-latest': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.2-codex': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.2-pro': { input_cost_per_token: 2.1e-5, output_cost_per_token: 0.000168 },
  'gpt-5.2-pro-2025-12-11': { input_cost_per_token: 2.1e-5, output_cost_per_token: 0.000168 },
  'gpt-5.3-chat-latest': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.3-codex': {
    cache_read_input_token_cost: 1.75e-7,
    cache_read_input_token_cost_priority: 3.5e-7,
    input_cost_per_token: 1.75e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 1.4e-5,
    output_cost_per_token_priority: 2.8e-5,
  },
  'gpt-5.4': {
    cache_read_input_token_cost: 2.5e-7,
    cache_read_input_token_cost_above_272k_tokens: 5e-7,
    cache_read_input_token_cost_flex: 1.3e-7,
    cache_read_input_token_cost_priority: 5e-7,
    input_cost_per_token: 2.5e-6,
    input_cost_per_token_above_272k_tokens: 5e-6,
    input_cost_per_token_flex: 1.25e-6,
    input_cost_per_token_priority: 5e-6,
    output_cost_per_token: 1.5e-5,
    output_cost_per_token_above_272k_tokens: 2.25e-5,
    output_cost_per_token_flex: 7.5e-6,
    output_cost_per_token_priority: 3e-5,
  },
  'gpt-5.4-2026-03-05': {
    cache_read_input_token_cost: 2.5e-7,
    cache_read_input_token_cost_above_272k_tokens: 5e-7,
    cache_read_input_token_cost_flex: 1.3e-7,
    cache_read_input_token_cost_priority: 5e-7,
    input_cost_per_token: 2.5e-6,
    input_cost_per_token_above_272k_tokens: 5e-6,
    input_cost_per_token_flex: 1.25e-6,
    input_cost_per_token_priority: 5e-6,
    output_cost_per_token: 1.5e-5,
    output_cost_per_token_above_272k_tokens: 2.25e-5,
    output_cost_per_token_flex: 7.5e-6,
    output_cost_per_token_priority: 3e-5,
  },
  'gpt-5.4-mini': {
    cache_read_input_token_cost: 7.5e-8,
    cache_read_input_token_cost_flex: 3.75e-8,
    cache_read_input_token_cost_priority: 1.5e-7,
    input_cost_per_token: 7.5e-7,
    input_cost_per_token_flex: 3.75e-7,
    input_cost_per_token_priority: 1.5e-6,
    output_cost_per_token: 4.5e-6,
    output_cost_per_token_flex: 2.25e-6,
    output_cost_per_token_priority: 9e-6,
  },
  'gpt-5.4-mini-2026-03-17': {
    cache_read_input_token_cost: 7.5e-8,
    cache_read_input_token_cost_flex: 3.75e-8,
    cache_read_input_token_cost_priority: 1.5e-7,
    input_cost_per_token: 7.5e-7,
    input_cost_per_token_flex: 3.75e-7,
    input_cost_per_token_priority: 1.5e-6,
    output_cost_per_token: 4.5e-6,
    output_cost_per_token_flex: 2.25e-6,
    output_cost_per_token_priority: 9e-6,
  },
  'gpt-5.4-nano': {
    cache_read_input_token_cost: 2e-8,
    cache_read_input_token_cost_flex: 1e-8,
    input_cost_per_token: 2e-7,
    input_cost_per_token_flex: 1e-7,
    output_cost_per_token: 1.25e-6,
    output_cost_per_token_flex: 6.25e-7,
  },
  'gpt-5.4-nano-2026-03-17': {
    cache_read_input_token_cost: 2e-8,
    cache_read_input_token_cost_flex: 1e-8,
    input_cost_per_token: 2e-7,
    input_cost_per_token_flex: 1e-7,
    output_cost_per_token: 1.25e-6,
    output_cost_per_token_flex: 6.25e-7,
  },
  'gpt-5.4-pro': {
    cache_read_input_token_cost: 3e-6,
    cache_read_input_token_cost_above_272k_tokens: 6e-6,
    input_cost_per_token: 3e-5,
    input_cost_per_token_above_272k_tokens: 6e-5,
    input_cost_per_token_flex: 1.5e-5,
    output_cost_per_token: 0.00018,
    output_cost_per_token_above_272k_tokens: 0.00027,
    output_cost_per_token_flex: 9e-5,
  },
  'gpt-5.4-pro-2026-03-05': {
    cache_read_input_token_cost: 3e-6,
    cache_read_input_token_cost_above_272k_tokens: 6e-6,
    input_cost_per_token: 3e-5,
    input_cost_per_token_above_272k_tokens: 6e-5,
    input_cost_per_token_flex: 1.5e-5,
    output_cost_per_token: 0.00018,
    output_cost_per_token_above_272k_tokens: 0.00027,
    output_cost_per_token_flex: 9e-5,
  },
  'gpt-5.5': {
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_above_272k_tokens: 1e-6,
    cache_read_input_token_cost_flex: 2.5e-7,
    cache_read_input_token_cost_priority: 1e-6,
    input_cost_per_token: 5e-6,
    input_cost_per_token_above_272k_tokens: 1e-5,
    input_cost_per_token_flex: 2.5e-6,
    input_cost_per_token_priority: 1e-5,
    output_cost_per_token: 3e-5,
    output_cost_per_token_above_272k_tokens: 4.5e-5,
    output_cost_per_token_flex: 1.5e-5,
    output_cost_per_token_priority: 6e-5,
  },
  'gpt-5.5-2026-04-23': {
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_above_272k_tokens: 1e-6,
    cache_read_input_token_cost_flex: 2.5e-7,
    cache_read_input_token_cost_priority: 1e-6,
    input_cost_per_token: 5e-6,
    input_cost_per_token_above_272k_tokens: 1e-5,
    input_cost_per_token_flex: 2.5e-6,
    input_cost_per_token_priority: 1e-5,
    output_cost_per_token: 3e-5,
    output_cost_per_token_above_272k_tokens: 4.5e-5,
    output_cost_per_token_flex: 1.5e-5,
    output_cost_per_token_priority: 6e-5,
  },
  'gpt-5.5-pro': {
    cache_read_input_token_cost: 3e-6,
    cache_read_input_token_cost_above_272k_tokens: 6e-6,
    input_cost_per_token: 3e-5,
    input_cost_per_token_above_272k_tokens: 6e-5,
    input_cost_per_token_flex: 1.5e-5,
    output_cost_per_token: 0.00018,
    output_cost_per_token_above_272k_tokens: 0.00027,
    output_cost_per_token_flex: 9e-5,
  },
  'gpt-5.5-pro-2026-04-23': {
    cache_read_input_token_cost: 3e-6,
    cache_read_input_token_cost_above_272k_tokens: 6e-6,
    input_cost_per_token: 3e-5,
    input_cost_per_token_above_272k_tokens: 6e-5,
    input_cost_per_token_flex: 1.5e-5,
    output_cost_per_token: 0.00018,
    output_cost_per_token_above_272k_tokens: 0.00027,
    output_cost_per_token_flex: 9e-5,
  },
  'gpt-5.6': {
    cache_creation_input_token_cost_above_272k_tokens: 1.25e-5,
    cache_creation_input_token_cost_flex: 3.125e-6,
    cache_creation_input_token_cost_priority: 1.25e-5,
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_above_272k_tokens: 1e-6,
    cache_read_input_token_cost_flex: 2.5e-7,
    cache_read_input_token_cost_priority: 1e-6,
    input_cost_per_token: 5e-6,
    input_cost_per_token_above_272k_tokens: 1e-5,
    input_cost_per_token_flex: 2.5e-6,
    input_cost_per_token_priority: 1e-5,
    output_cost_per_token: 3e-5,
    output_cost_per_token_above_272k_tokens: 4.5e-5,
    output_cost_per_token_flex: 1.5e-5,
    output_cost_per_token_priority: 6e-5,
  },
  'gpt-5.6-luna': {
    cache_creation_input_token_cost_above_272k_tokens: 2.5e-6,
    cache_creation_input_token_cost_flex: 6.25e-7,
    cache_creation_input_token_cost_priority: 2.5e-6,
    cache_read_input_token_cost: 1e-7,
    cache_read_input_token_cost_above_272k_tokens: 2e-7,
    cache_read_input_token_cost_flex: 5e-8,
    cache_read_input_token_cost_priority: 2e-7,
    input_cost_per_token: 1e-6,
    input_cost_per_token_above_272k_tokens: 2e-6,
    input_cost_per_token_flex: 5e-7,
    input_cost_per_token_priority: 2e-6,
    output_cost_per_token: 6e-6,
    output_cost_per_token_above_272k_tokens: 9e-6,
    output_cost_per_token_flex: 3e-6,
    output_cost_per_token_priority: 1.2e-5,
  },
  'gpt-5.6-sol': {
    cache_creation_input_token_cost_above_272k_tokens: 1.25e-5,
    cache_creation_input_token_cost_flex: 3.125e-6,
    cache_creation_input_token_cost_priority: 1.25e-5,
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_above_272k_tokens: 1e-6,
    cache_read_input_token_cost_flex: 2.5e-7,
    cache_read_input_token_cost_priority: 1e-6,
    input_cost_per_token: 5e-6,
    input_cost_per_token_above_272k_tokens: 1e-5,
    input_cost_per_token_flex: 2.5e-6,
    input_cost_per_token_priority: 1e-5,
    output_cost_per_token: 3e-5,
    output_cost_per_token_above_272k_tokens: 4.5e-5,
    output_cost_per_token_flex: 1.5e-5,
    output_cost_per_token_priority: 6e-5,
  },
  'gpt-5.6-terra': {
    cache_creation_input_token_cost_above_272k_tokens: 6.25e-6,
    cache_creation_input_token_cost_flex: 1.5625e-6,
    cache_creation_input_token_cost_priority: 6.25e-6,
    cache_read_input_token_cost: 2.5e-7,
    cache_read_input_token_cost_above_272k_tokens: 5e-7,
    cache_read_input_token_cost_flex: 1.25e-7,
    cache_read_input_token_cost_priority: 5e-7,
    input_cost_per_token: 2.5e-6,
    input_cost_per_token_above_272k_tokens: 5e-6,
    input_cost_per_token_flex: 1.25e-6,
    input_cost_per_token_priority: 5e-6,
    output_cost_per_token: 1.5e-5,
    output_cost_per_token_above_272k_tokens: 2.25e-5,
    output_cost_per_token_flex: 7.5e-6,
    output_cost_per_token_priority: 3e-5,
  },
  o3: {
    cache_read_input_token_cost: 5e-7,
    cache_read_input_token_cost_flex: 2.5e-7,
    cache_read_input_token_cost_priority: 8.75e-7,
    input_cost_per_token: 2e-6,
    input_cost_per_token_flex: 1e-6,
    input_cost_per_token_priority: 3.5e-6,
    output_cost_per_token: 8e-6,
    output_cost_per_token_flex: 4e-6,
    output_cost_per_token_priority: 1.4e-5,
  },
  'o3-pro': { input_cost_per_token: 2e-5, output_cost_per_token: 8e-5 },
  'o4-mini': {
    cache_read_input_token_cost: 2.75e-7,
    cache_read_input_token_cost_flex: 1.375e-7,
    cache_read_input_token_cost_priority: 5e-7,
    input_cost_per_token: 1.1e-6,
    input_cost_per_token_flex: 5.5e-7,
    input_cost_per_token_priority: 2e-6,
    output_cost_per_token: 4.4e-6,
    output_cost_per_token_flex: 2.2e-6,
    output_cost_per_token_priority: 8e-6,
  },
};

/** USD per token of each kind of token, for one model at one tier and context length. */
export interface Rates {
  input: number;
  cached_input: number;
  cache_write_input: number;
  output: number;
}

/** The price-file suffix of a service tier as Codex records it (`fast` is the API's priority tier), or null for a tier no file prices. */
function tierSuffix(tier: string | null): string | null {
  if (tier === null || tier === 'default' || tier === 'auto' || tier === 'standard') return '';
  if (tier === 'fast' || tier === 'priority') return '_priority';
  if (tier === 'flex') return '_flex';
  return null;
}

const LONG = '_above_272k_tokens';

export class Pricing {
  private constructor(private readonly entries: Map<string, PriceEntry>) {}

  static bundled(): Pricing {
    return new Pricing(new Map(Object.entries(BUNDLED)));
  }

  /** This table with the models of a LiteLLM-shaped file added, each replacing the bundled entry of its name. */
  withFile(path: string): Pricing {
    const text = readFileSync(path, 'utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw new RolloutError(`not a price file: not JSON (${(err as Error).message})`, { file: path });
    }
    if (!isObject(v)) throw new RolloutError('not a price file: it should be a JSON object of models, as LiteLLM writes them', { file: path });
    const entries = new Map(this.entries);
    let priced = 0;
    for (const [model, e] of Object.entries(v)) {
      if (!isObject(e)) continue;
      const numbers = Object.fromEntries(
        Object.entries(e).filter((x): x is [string, number] => typeof x[1] === 'number' && Number.isFinite(x[1]) && x[1] >= 0),
      );
      // Image, audio and embedding entries price no text tokens.
      if (numbers.input_cost_per_token === undefined || numbers.output_cost_per_token === undefined) continue;
      entries.set(model, numbers);
      priced++;
    }
    if (!priced) throw new RolloutError('not a price file: no model in it has input_cost_per_token and output_cost_per_token', { file: path });
    return new Pricing(entries);
  }

  /** The entry of a model: by its name, else without an `openai/` prefix, else without a `-YYYY-MM-DD` snapshot date. */
  private entry(model: string): PriceEntry | undefined {
    const bare = model.replace(/^openai\//, '');
    return this.entries.get(model) ?? this.entries.get(bare) ?? this.entries.get(bare.replace(/-\d{4}-\d{2}-\d{2}$/, ''));
  }

  /** The rates of a model at a tier, for responses of more than 272k input tokens when `long`; null when not priced. */
  rates(model: string | null, tier: string | null, long: boolean): Rates | null {
    const e = model === null ? undefined : this.entry(model);
    const suffix = tierSuffix(tier);
    if (!e || suffix === null) return null;
    // A long response of a model with a long-context price is priced by it (at a tier only where the
    // file gives that tier's long-context price); of any other model, as any other response.
    const longPriced = long && e[`input_cost_per_token${LONG}`] !== undefined;
    const rate = (base: string): number | undefined =>
      longPriced ? (e[`${base}${LONG}${suffix}`] ?? (suffix ? e[`${base}${suffix}${LONG}`] : undefined)) : e[`${base}${suffix}`];
    const input = rate('input_cost_per_token');
    const output = rate('output_cost_per_token');
    if (input === undefined || output === undefined) return null;
    // No cache price: cached tokens cost what other input tokens do.
    return { input, output, cached_input: rate('cache_read_input_token_cost') ?? input, cache_write_input: rate('cache_creation_input_token_cost') ?? input };
  }

  /** USD of `t` at `r`. Cached and cache-write tokens are part of the input; reasoning tokens are part of the output. */
  cost(t: Tokens, r: Rates): number {
    const plain = Math.max(0, t.input - t.cached_input - t.cache_write_input);
    return plain * r.input + t.cached_input * r.cached_input + t.cache_write_input * r.cache_write_input + t.output * r.output;
  }
}
