import { useEffect, useRef } from 'react';

export interface ChartSeries {
  label: string;
  values: number[];
  color: string;
}

/**
 * A bar chart drawn with Chart.js, which is loaded on first use in a chunk of its own (the inbox never loads it).
 * The figures are also in the tables and the CSV; the canvas carries an accessible name.
 */
export function ReportChart({ title, labels, series }: { title: string; labels: string[]; series: ChartSeries[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | undefined;
    let cancelled = false;
    void import('chart.js/auto').then(({ default: Chart }) => {
      if (cancelled || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: 'bar',
        data: {
          labels,
          datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [labels, series]);
  return (
    <figure className="report-chart">
      <figcaption>{title}</figcaption>
      <div className="report-chart-box">
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
    </figure>
  );
}
