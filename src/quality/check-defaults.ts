/**
 * Defaults of check fields that the check plan applies and the UI shows with a check's
 * threshold (a module without imports, so the browser bundle can take it). The anomaly
 * method's defaults are `ANOMALY_DEFAULTS` in `anomaly.ts`.
 */
export const CHECK_DEFAULTS = {
  /** `not_null`: percent of nulls allowed. */
  maxMissingPercent: 0,
  /** `distribution`: largest change allowed (relative; absolute for the null rate). */
  maxChange: 0.2,
} as const;
