/**
 * Percentile time series (p50/p95/p99) drawn with uPlot. The three lines differ by dash pattern
 * and width as well as colour, the legend names them, and a caption under each chart says the
 * latest values in words, so nothing depends on telling colours apart.
 */
import uPlot from 'uplot';
import { fill } from './dom';
import { ms } from './format';

/** Points kept per chart: five minutes at one poll a second. */
const MAX_POINTS = 300;

export interface PercentilePoint {
  p50: number;
  p95: number;
  p99: number;
}

export class PercentileChart {
  private readonly times: number[] = [];
  private readonly series: [number[], number[], number[]] = [[], [], []];
  private plot: uPlot | undefined;
  private readonly resize = new ResizeObserver(() => this.fitWidth());

  constructor(
    private readonly container: HTMLElement,
    private readonly caption: HTMLElement,
    private readonly title: string,
    private readonly countLabel: string,
  ) {}

  private options(width: number): uPlot.Options {
    return {
      title: this.title,
      width,
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { label: 'ms', size: 60 }],
      series: [
        {},
        { label: 'p50', stroke: '#1b6ac9', width: 2 },
        { label: 'p95', stroke: '#b35c00', width: 2, dash: [8, 4] },
        { label: 'p99', stroke: '#a3123a', width: 3, dash: [2, 3] },
      ],
    };
  }

  private fitWidth(): void {
    const width = Math.max(260, Math.floor(this.container.clientWidth));
    if (!this.plot) {
      this.plot = new uPlot(this.options(width), [this.times, ...this.series], this.container);
      this.resize.observe(this.container);
    } else if (Math.abs(this.plot.width - width) > 2) {
      this.plot.setSize({ width, height: 220 });
    }
  }

  /** Adds a point (at `at`, epoch ms) and redraws; `sampleCount` is how many samples stand behind it. */
  push(at: number, point: PercentilePoint, sampleCount: number): void {
    this.times.push(at / 1000);
    this.series[0].push(point.p50);
    this.series[1].push(point.p95);
    this.series[2].push(point.p99);
    if (this.times.length > MAX_POINTS) {
      this.times.shift();
      for (const s of this.series) s.shift();
    }
    if (!this.plot) this.fitWidth();
    else this.plot.setData([this.times, ...this.series]);
    fill(
      this.caption,
      `Latest (${new Date(at).toLocaleTimeString(undefined, { hour12: false })}): `,
      `p50 ${ms(point.p50)} · p95 ${ms(point.p95)} · p99 ${ms(point.p99)} `,
      `over ${sampleCount.toLocaleString('en')} ${this.countLabel}; ${this.times.length} points shown. `,
      'Lines: p50 solid, p95 dashed, p99 dotted.',
    );
    this.caption.dataset.points = String(this.times.length);
    this.caption.dataset.samples = String(sampleCount);
  }
}
