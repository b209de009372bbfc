import cliProgress from 'cli-progress';
import prettyBytes from 'pretty-bytes';
import type { Inventory } from '../domain/inventory.js';
import type { ScanWarning } from '../domain/warning.js';
import type { LayerProgress } from '../image/types.js';
import type { WalkProgress } from '../layers/walk-rootfs.js';

/** What the scan commands report while they work, and what they ran for. */
export interface ProgressReporter {
  /** Bytes of one layer blob read so far. */
  onProgress(p: LayerProgress): void;
  /** Running totals of a `dir:` walk. */
  onWalk(p: WalkProgress): void;
  /** Erases the live display (if any); safe to call twice. */
  stop(): void;
  /** The last walk totals seen (`dir:` images), for the end summary. */
  readonly walked: WalkProgress | undefined;
  /** Milliseconds since the reporter was created. */
  elapsedMs(): number;
}

/**
 * How a command reports on stderr: `live` (a progress display, then the summary), `summary` (only
 * the end summary and warnings) or `silent` (`-q`). Live needs a TTY unless forced with
 * `PORTCULLIS_PROGRESS=1` (`0` turns it off); stdout is never written to.
 */
export type ProgressMode = 'live' | 'summary' | 'silent';

/** The reporting mode for a run: see {@link ProgressMode}. */
export function progressMode(quiet: boolean, stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (quiet) return 'silent';
  const forced = env['PORTCULLIS_PROGRESS'];
  if (forced === '0') return 'summary';
  if (forced === '1' || stream.isTTY === true) return 'live';
  return 'summary';
}

/** `116 MiB`, `1.17 MiB`: binary units, three significant digits. */
export function humanBytes(bytes: number): string {
  return prettyBytes(Math.max(0, bytes), { binary: true });
}

/** `12.3 MiB/s`; `-` before there is anything to divide. */
export function humanRate(bytes: number, ms: number): string {
  return ms > 0 ? `${humanBytes((bytes * 1000) / ms)}/s` : '-';
}

/** `950 ms`, `4.2 s`, `1m 57s`. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

const count = new Intl.NumberFormat('en-US');

const BAR_WIDTH = 24;

/** `[#####-------]` for a fraction between 0 and 1. */
function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/**
 * The reporter for a run. In `live` mode: one line per layer blob (read / total with human units,
 * percentage and rate) and, for `dir:`, one line of files and bytes walked with the rate; both on
 * `stream`, redrawn at most 10 times a second (every 200 ms as plain lines when forced onto a
 * stream that is not a TTY). In the other modes nothing is displayed; totals are still kept.
 */
export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): ProgressReporter {
  const started = Date.now();
  let walked: WalkProgress | undefined;
  if (mode !== 'live') {
    return {
      onProgress: () => undefined,
      onWalk(p) {
        walked = { ...p };
      },
      stop: () => undefined,
      get walked() {
        return walked;
      },
      elapsedMs: () => Date.now() - started,
    };
  }
  const multi = new cliProgress.MultiBar({
    stream: stream as NodeJS.WriteStream,
    // On a terminal the display is erased when done; forced onto a log, its final state is kept.
    clearOnComplete: stream.isTTY === true,
    hideCursor: true,
    noTTYOutput: stream.isTTY !== true,
    notTTYSchedule: 200,
  });
  const bars = new Map<string, cliProgress.SingleBar>();
  let walkBar: cliProgress.SingleBar | undefined;
  let stopped = false;
  return {
    onProgress(p) {
      let layerBar = bars.get(p.layer.digest);
      if (!layerBar) {
        const layerStarted = Date.now();
        let layerDone: number | undefined;
        layerBar = multi.create(Math.max(p.total, 1), 0, {}, {
          format: (_options, params) => {
            const total = Math.max(params.total, params.value);
            const fraction = total > 0 ? params.value / total : 0;
            // A finished layer keeps the rate it was read at instead of decaying while others run.
            if (fraction >= 1) layerDone ??= Date.now();
            const rate = humanRate(params.value, (layerDone ?? Date.now()) - layerStarted);
            return ` ${p.layer.digest.slice(7, 19)} ${bar(fraction)} ${Math.round(fraction * 100)}% | ${humanBytes(params.value)} / ${humanBytes(total)} | ${rate}`;
          },
        });
        bars.set(p.layer.digest, layerBar);
      }
      layerBar.setTotal(Math.max(p.total, p.bytes, 1));
      layerBar.update(p.bytes);
    },
    onWalk(p) {
      walked = { ...p };
      if (!walkBar) {
        walkBar = multi.create(1, 0, {}, {
          format: () => {
            const now = walked ?? { files: 0, bytes: 0 };
            const ms = Date.now() - started;
            return ` walking: ${count.format(now.files)} files, ${humanBytes(now.bytes)} | ${humanRate(now.bytes, ms)} | ${humanDuration(ms)}`;
          },
        });
      }
      // The value only drives redraws; the line is drawn from `walked`.
      walkBar.update(p.files % 2);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
    get walked() {
      return walked;
    },
    elapsedMs: () => Date.now() - started,
  };
}

/** One warning per distinct code and message, in first-seen order, with how often it occurred. */
export function dedupeWarnings(warnings: readonly ScanWarning[]): { warning: ScanWarning; count: number }[] {
  const byKey = new Map<string, { warning: ScanWarning; count: number }>();
  for (const w of warnings) {
    const key = `${w.code}\n${w.message}`;
    const seen = byKey.get(key);
    if (seen) seen.count++;
    else byKey.set(key, { warning: w, count: 1 });
  }
  return [...byKey.values()];
}

/**
 * The end-of-run lines on stderr: one summary line per inventory (packages, layers or files walked,
 * bytes read, time and rate) and then every warning once (`(N times)` when repeated). Nothing in
 * `silent` mode.
 */
export function writeRunSummary(
  mode: ProgressMode,
  run: { inventories: readonly Inventory[]; warnings: readonly ScanWarning[]; progress: ProgressReporter },
  stream: NodeJS.WritableStream = process.stderr,
): void {
  if (mode === 'silent') return;
  const ms = run.progress.elapsedMs();
  const lines: string[] = [];
  for (const inv of run.inventories) {
    const packages = `${count.format(inv.packages.length)} package${inv.packages.length === 1 ? '' : 's'}`;
    const walked = inv.image.transport === 'dir' ? run.progress.walked : undefined;
    let read: string;
    if (walked) {
      read = `walked ${count.format(walked.files)} files, ${humanBytes(walked.bytes)}`;
    } else {
      const cached = inv.stats.layersFromCache > 0 ? ` (${inv.stats.layersFromCache} from the cache)` : '';
      read = `${inv.layers.length} layer${inv.layers.length === 1 ? '' : 's'}${cached}, ${humanBytes(inv.stats.bytesRead)} read`;
    }
    const bytes = walked ? walked.bytes : inv.stats.bytesRead;
    lines.push(`portcullis: ${inv.image.reference}: ${packages}; ${read} in ${humanDuration(ms)} (${humanRate(bytes, ms)})`);
  }
  for (const { warning, count: times } of dedupeWarnings(run.warnings)) {
    lines.push(`portcullis: warning: ${warning.message}${times > 1 ? ` (${times} times)` : ''}`);
  }
  if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
}
