// Colour for text written for people: `--color=auto|always|never`, as git takes it. Automatic means
// on a terminal, unless NO_COLOR is set (https://no-color.org) or the terminal is "dumb"; a flag given
// on the command line wins over the environment, as NO_COLOR asks.
import { UsageError } from './errors.js';

export const COLOR_WHEN = ['auto', 'always', 'never'] as const;
export type ColorWhen = (typeof COLOR_WHEN)[number];

/** The `--color` value, checked; absent means `auto`. */
export function parseColorWhen(value: string | undefined): ColorWhen {
  if (value === undefined) return 'auto';
  if (!(COLOR_WHEN as readonly string[]).includes(value)) throw new UsageError(`--color takes auto, always or never, not '${value}'`);
  return value as ColorWhen;
}

/** Whether to colour what goes to a stream that is (or is not) a terminal. */
export function useColor(when: ColorWhen, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (when !== 'auto') return when === 'always';
  return isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The few styles the tables use, as SGR codes. */
const SGR = {
  bold: '1',
  dim: '2',
  underline: '4',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
} as const;

export type Style = keyof typeof SGR;

/** Paints text in a style, or leaves it as it is when colour is off. Text must already be made visible. */
export type Paint = (style: Style | undefined, text: string) => string;

export function painter(on: boolean): Paint {
  if (!on) return (_style, text) => text;
  return (style, text) => (style && text ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text);
}
