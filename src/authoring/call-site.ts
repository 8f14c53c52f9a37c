/**
 * Where in user code a DAG, group or task was declared. The stack is captured when the
 * declaration runs and read only when an error needs its line, so declaring costs little.
 */
import type { SpecLocation } from '../core/errors.ts';
import { userLocation } from '../loader/stack-location.ts';

/** A captured call site; read it with `callSiteLocation`. */
export interface CallSite {
  readonly stack: Error;
}

/** Captures the current call stack. */
export function captureCallSite(): CallSite {
  return { stack: new Error('declared here') };
}

/** File, line and column of the user code in a call site (empty when none is found). */
export function callSiteLocation(
  site: CallSite | undefined,
): Pick<SpecLocation, 'file' | 'line' | 'column'> {
  const location = userLocation(site?.stack.stack);
  return location === undefined
    ? {}
    : { file: location.file, line: location.line, column: location.column };
}
