// The per-week trend of the largest clusters, drawn by uPlot, with the numbers as a table too.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { useI18n } from './i18n.js';

export const PALETTE = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#be185d'];

export function TrendChart({ weeks, clusters, labels }) {
  const { t } = useI18n();
  const box = useRef(null);
  const plot = useRef(null);

  useEffect(() => {
    const el = box.current;
    if (!el || !weeks.length) return undefined;
    const xs = weeks.map((_, i) => i);
    const data = [xs, ...clusters.map((c) => weeks.map((w) => w.counts[c.id] ?? 0))];
    const width = () => Math.max(260, Math.floor(el.clientWidth));
    const opts = {
      width: width(),
      height: 260,
      title: '',
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [
        {
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) && weeks[i] ? weeks[i].period : '')),
          incrs: [1, 2, 4, 8, 13, 26, 52],
          space: 70,
        },
        { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], space: 30 },
      ],
      series: [
        { label: t('clusters.week'), value: (u, i) => (i == null || !weeks[i] ? '' : weeks[i].period) },
        ...clusters.map((c, k) => ({
          label: labels[k],
          stroke: PALETTE[k % PALETTE.length],
          width: 2,
          points: { show: true, size: 6 },
        })),
      ],
      legend: { show: true },
      cursor: { focus: { prox: 16 } },
    };
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 260 }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [weeks, clusters, labels, t]);

  if (!weeks.length) return <p class="muted">{t('clusters.noWeeks')}</p>;
  return (
    <figure class="chart" aria-labelledby="trend-caption">
      <figcaption id="trend-caption">{t('clusters.trend')} <span class="muted">— {t('clusters.trendHelp')}</span></figcaption>
      <div ref={box} class="chart-box" data-testid="cluster-chart" role="img" aria-label={t('clusters.trend')} />
      <details>
        <summary>{t('clusters.table')}</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr><th scope="col">{t('clusters.week')}</th>{labels.map((l) => <th scope="col" key={l}>{l}</th>)}</tr>
            </thead>
            <tbody>
              {weeks.map((w) => (
                <tr key={w.period}><th scope="row">{w.period}</th>{clusters.map((c) => <td key={c.id}>{w.counts[c.id] ?? 0}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
