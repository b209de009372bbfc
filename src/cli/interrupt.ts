/**
 * Ctrl-C for the engine: the first SIGINT (or SIGTERM) aborts the command's signal, so layer reads
 * and tar walks stop within one entry, temporary files are removed and the command ends with
 * E_CANCELLED (exit 130); a second SIGINT leaves at once, as an impatient user expects.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** Removes the signal handlers (the command is done). */
  dispose(): void;
}

export function interruptOnSignals(): Interrupt {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // The second one: the user does not want to wait for the clean-up.
      process.exit(130);
    }
    controller.abort(new Error(`interrupted by ${name}`));
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
