// The one line of the terminal a progress bar (progress.ts) draws on, shared with everything else
// that writes to that terminal: diagnostics and stdout take the bar off before they write, and a line
// that stdout left open is not drawn over. Apart from progress.ts, so that errors.ts and output.ts
// can reach it without importing what the bar itself needs.

const screen: { clear: (() => void) | null; lineOpen: boolean } = { clear: null, lineOpen: false };

/** A bar is on the line: `clear` takes it off. */
export function barShown(clear: () => void): void {
  screen.clear = clear;
}

/** Takes the bar off the terminal before something else is written there; the next update draws it again. */
export function clearProgress(): void {
  const clear = screen.clear;
  screen.clear = null;
  clear?.();
}

/** Stdout, on the same terminal, ended its last write mid-line (or not): no bar until it ends the line. */
export function stdoutLineOpen(open: boolean): void {
  screen.lineOpen = open;
}

/** Whether a bar may be drawn now without overwriting what stdout left on the line. */
export const lineFree = (): boolean => !screen.lineOpen;
