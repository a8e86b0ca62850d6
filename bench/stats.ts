/** Summary statistics for benchmark samples (milliseconds). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function describe(samples: number[]): { n: number; median: number; p90: number; min: number; max: number } {
  return {
    n: samples.length,
    median: percentile(samples, 50),
    p90: percentile(samples, 90),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

export function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
