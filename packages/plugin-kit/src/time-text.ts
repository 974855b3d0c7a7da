/**
 * Microseconds since the epoch of a time as registries write it: ISO-8601 (`2025-01-02T03:04:05.678901Z`,
 * an offset, or none) or BentoCloud's `2025-01-02 03:04:05.678901`. A time without a zone is UTC,
 * as BentoML reads naive times. The fraction's digits past milliseconds are kept, which `Date`
 * would drop.
 * @returns undefined for text that is not such a time.
 */
export function timeMicroseconds(text: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/i.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = 'Z'] = match as unknown as [string, string, string, string | undefined, string | undefined];
  const seconds = Date.parse(`${date}T${time}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(seconds)) return undefined;
  return seconds * 1000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}
