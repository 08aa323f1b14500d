/**
 * `mnas config schema`: prints the JSON Schema of search config files (src/search/config-schema.ts).
 * Save it and point a config at it with "$schema" so an editor checks keys, values and strategy
 * options as you type.
 */
import type { Command } from 'commander';
import { searchConfigJsonSchema } from '../search/config-schema.js';

export function registerConfig(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  const config = program.command('config').description('search config files: their JSON Schema');
  config
    .command('schema')
    .description('print the JSON Schema of search config files (e.g. mnas config schema > mnas-config.schema.json, then "$schema": "./mnas-config.schema.json" in a config)')
    .action(() => write(`${JSON.stringify(searchConfigJsonSchema(), null, 2)}\n`));
}
