/** What every benchmark module provides, and how it reports its figures (printed as they come, collected for the table and JSON). */

export interface Figure {
  /** Which case of the measurement, e.g. "2 workers"; absent when it has one case. */
  case?: string;
  /** What was measured, e.g. "identities per second". */
  label: string;
  value: number;
  unit: string;
}

export interface MeasurementReport {
  name: string;
  title: string;
  seconds: number;
  figures: Figure[];
  notes: string[];
  /** Set when the measurement could not finish; its figures are whatever it got before. */
  error?: string;
}

export class FigureRecorder {
  constructor(
    private readonly print: (line: string) => void,
    readonly figures: Figure[] = [],
    readonly notes: string[] = [],
    private readonly caseLabel?: string,
  ) {}

  /** The same recorder, its figures and notes tagged with one case of the measurement. */
  forCase(caseLabel: string): FigureRecorder {
    return new FigureRecorder(this.print, this.figures, this.notes, caseLabel);
  }

  private get tag(): string {
    return this.caseLabel === undefined ? "" : `[${this.caseLabel}] `;
  }

  /** Records one figure and prints it at once, with its unit. */
  figure(label: string, value: number, unit: string): void {
    this.figures.push({ ...(this.caseLabel === undefined ? {} : { case: this.caseLabel }), label, value, unit });
    this.print(`  ${this.tag}${label}: ${formatValue(value)} ${unit}`);
  }

  /** A sentence worth keeping beside the figures (a verdict, a caveat, an anomaly). */
  note(text: string): void {
    this.notes.push(`${this.tag}${text}`);
    this.print(`  -> ${this.tag}${text}`);
  }

  /** Progress that is not a figure. */
  progress(text: string): void {
    this.print(`  .. ${text}`);
  }
}

export interface Measurement {
  /** The name `--only` takes: the module's file name. */
  name: string;
  title: string;
  run(recorder: FigureRecorder): Promise<void>;
}

/** Three significant decimals at most, integers as integers. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return value.toFixed(digits);
}

export const MIB = 1024 * 1024;
export const toMiB = (bytes: number): number => bytes / MIB;
