/** A comma-separated list of integers as a commander option parser; each item checked like intOption. */
import { UsageError } from '../errors.js';
import { intOption } from '../options.js';

export function intListOption(name: string, min: number, max: number): (v: string) => number[] {
  const one = intOption(name, min, max);
  return (v: string) => {
    const list = v.split(',').map((x) => one(x.trim()));
    if (list.length === 0) throw new UsageError(`${name}: empty list`);
    return list;
  };
}
