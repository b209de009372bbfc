import cliProgress from 'cli-progress';
import type { LayerProgress } from '../image/types.js';

/** What the scan commands report while they work. */
export interface ProgressReporter {
  onProgress(p: LayerProgress): void;
  stop(): void;
}

const silent: ProgressReporter = { onProgress: () => undefined, stop: () => undefined };

/**
 * A download bar per layer on a TTY (stderr), nothing otherwise: CI logs stay clean and
 * machine-readable output on stdout is never mixed with progress.
 */
export function createProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!enabled || !stream.isTTY) return silent;
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: true,
      hideCursor: true,
      format: ' {layer} [{bar}] {percentage}% | {value}/{total} bytes',
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress(p) {
      let bar = bars.get(p.layer.digest);
      if (!bar) {
        bar = multi.create(Math.max(p.total, 1), 0, { layer: p.layer.digest.slice(7, 19) });
        bars.set(p.layer.digest, bar);
      }
      bar.setTotal(Math.max(p.total, p.bytes, 1));
      bar.update(p.bytes);
    },
    stop() {
      multi.stop();
    },
  };
}
