/**
 * The charts load Chart.js (the largest library of the UI) only when a page draws one, so the
 * repositories list and the sign-in page do not wait for it. The space is held while it loads.
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SeverityCounts } from '../lib/severity';
import type { TrendPoint } from './charts';

function useLoaded<P>(pick: (m: typeof import('./charts')) => ComponentType<P>): ComponentType<P> | undefined {
  const [component, setComponent] = useState<ComponentType<P> | undefined>(undefined);
  useEffect(() => {
    let current = true;
    void import('./charts').then((m) => current && setComponent(() => pick(m)));
    return () => {
      current = false;
    };
  }, []);
  return component;
}

export function SeverityDoughnut(props: { counts: SeverityCounts }) {
  const Chart = useLoaded((m) => m.SeverityDoughnut);
  return Chart ? <Chart {...props} /> : <div class="chart chart-doughnut" />;
}

export function TrendChart(props: { points: readonly TrendPoint[] }) {
  const Chart = useLoaded((m) => m.TrendChart);
  return Chart ? <Chart {...props} /> : <div class="chart chart-trend" />;
}
