import { median, percentile, seededRandom, slope, zipfSampler } from '../../bench/lib/stats';

describe('bench stats', () => {
  it('takes nearest-rank percentiles of an ascending array', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 99), percentile(values, 100)]).toEqual([
      50, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('takes the median of odd and even counts without reordering its input', () => {
    const input = [5, 1, 3];
    expect(median(input)).toBe(3);
    expect(input).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('fits the least-squares slope, and reports 0 when there is no spread to fit', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 10);
    expect(slope([0, 10, 20], [5, 5, 5])).toBe(0);
    expect(slope([4, 4, 4], [1, 2, 3])).toBe(0);
    expect(slope([1], [1])).toBe(0);
  });

  it('repeats the same sequence for the same seed and a different one for another seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws Zipf ranks in range, as often as 1/(rank+1)^s predicts', () => {
    const n = 1000;
    const s = 1.1;
    const draw = zipfSampler(n, s, 7);
    const hits = new Array<number>(n).fill(0);
    const draws = 200_000;
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const rank = draw();
      if (!(Number.isInteger(rank) && rank >= 0 && rank < n)) outOfRange += 1;
      else hits[rank] = (hits[rank] ?? 0) + 1;
    }
    expect(outOfRange).toBe(0);
    let total = 0;
    for (let k = 1; k <= n; k++) total += 1 / Math.pow(k, s);
    expect((hits[0] ?? 0) / draws).toBeCloseTo(1 / total, 2);
    expect((hits[1] ?? 0) / draws).toBeCloseTo(1 / Math.pow(2, s) / total, 2);
    expect(hits[0]).toBeGreaterThan((hits[9] ?? 0) * 10);
  });

  it('gives every implementation the same request sequence from the same seed', () => {
    const ours = zipfSampler(1000, 1.1, 99);
    const baseline = zipfSampler(1000, 1.1, 99);
    expect(Array.from({ length: 50 }, baseline)).toEqual(Array.from({ length: 50 }, ours));
  });

  it('refuses an empty population', () => {
    expect(() => zipfSampler(0, 1.1, 1)).toThrow('zipfSampler needs n >= 1');
  });
});
