/**
 * The JSON Schema of a search config file (what `mnas config schema` prints), generated from the
 * zod schema in config.ts, so editors validate configs with the same rules mnas applies. The
 * `strategy` part is one alternative per registered strategy kind, listing exactly the options
 * that kind accepts (builtin-strategies.ts's registry), so a misspelt option is flagged in the editor too.
 */
import { z } from 'zod';
import { SearchConfigSchema } from './config.js';
import { BUILTIN_STRATEGIES } from './builtin-strategies.js';
import { STRATEGY_KINDS } from './strategy-kinds.js';

type JsonSchema = { [key: string]: unknown };

export function searchConfigJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(SearchConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties = schema.properties as Record<string, JsonSchema>;
  const strategy = properties.strategy!;
  properties.strategy = {
    ...(strategy.default !== undefined ? { default: strategy.default } : {}),
    description: 'the search strategy and its options (unknown options are errors)',
    oneOf: STRATEGY_KINDS.map((kind) => ({
      type: 'object',
      properties: {
        kind: { const: kind },
        options: {
          type: 'object',
          properties: Object.fromEntries(BUILTIN_STRATEGIES[kind].options.map((name) => [name, { type: ['number', 'string', 'boolean'] }])),
          additionalProperties: false,
        },
      },
      ...(kind === 'ppo' ? {} : { required: ['kind'] }),
      additionalProperties: false,
    })),
  };
  return { ...schema, title: 'mnas search config', $id: 'https://github.com/mnas/mnas/search-config.schema.json' };
}
