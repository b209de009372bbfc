/**
 * Charts with Chart.js (registered piece by piece so the bundle keeps only what is drawn). Every
 * chart has a text equivalent beside it (the summary lines, the table), so the canvas is
 * aria-hidden-free but labelled.
 */
import { ArcElement, CategoryScale, Chart, DoughnutController, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { SEVERITIES, SEVERITY_COLOUR, type SeverityCounts } from '../lib/severity';

Chart.register(ArcElement, DoughnutController, LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Filler);

function useChart(config: () => ChartConfiguration, deps: readonly unknown[]) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, config());
    return () => chart.destroy();
  }, deps);
  return canvas;
}

/** The severity mix of a manifest's findings. */
export function SeverityDoughnut({ counts }: { counts: SeverityCounts }) {
  const present = SEVERITIES.filter((s) => (counts[s] ?? 0) > 0);
  const canvas = useChart(
    () => ({
      type: 'doughnut',
      data: { labels: [...present], datasets: [{ data: present.map((s) => counts[s] ?? 0), backgroundColor: present.map((s) => SEVERITY_COLOUR[s]) }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'right' } } },
    }),
    [JSON.stringify(counts)],
  );
  if (present.length === 0) return null;
  return (
    <div class="chart chart-doughnut" data-testid="severity-chart">
      <canvas ref={canvas} role="img" aria-label={`Severity mix: ${present.map((s) => `${counts[s]} ${s}`).join(', ')}`} />
    </div>
  );
}

export interface TrendPoint {
  at: string;
  counts: SeverityCounts;
}

/** Findings per severity over time, one line per severity. */
export function TrendChart({ points }: { points: readonly TrendPoint[] }) {
  const labels = points.map((p) => new Date(p.at).toLocaleString());
  const canvas = useChart(
    () => ({
      type: 'line',
      data: {
        labels,
        datasets: SEVERITIES.filter((s) => points.some((p) => (p.counts[s] ?? 0) > 0)).map((s) => ({
          label: s,
          data: points.map((p) => p.counts[s] ?? 0),
          borderColor: SEVERITY_COLOUR[s],
          backgroundColor: SEVERITY_COLOUR[s],
          stepped: true,
          pointRadius: 2,
        })),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }),
    [JSON.stringify(points)],
  );
  return (
    <div class="chart chart-trend" data-testid="trend-chart">
      <canvas ref={canvas} role="img" aria-label={`Findings per severity over ${points.length} scans`} />
    </div>
  );
}
