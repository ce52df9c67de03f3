// Integer command-line flags, validated the same way by every subcommand's parser.

/** Returns a parser for `--name N` values: the fallback when absent, else an integer in min..max. */
export function intFlag(makeError: (msg: string) => Error) {
  return (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw makeError(`--${name} must be an integer in ${min}..${max}, got "${text}"`);
    return n;
  };
}
