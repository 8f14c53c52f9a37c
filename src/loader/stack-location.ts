/**
 * Source locations from JavaScript stack traces, to point an error at the line of a
 * pipeline file. With source maps enabled (`process.setSourceMapsEnabled(true)`, as the
 * loader process and `importPipeline` do), frames of bundled pipelines name the original
 * `.ts` files and lines.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A position in a source file; line and column count from 1. */
export interface CodeLocation {
  file: string;
  line: number;
  column: number;
}

/** Updraft's own source folder (`src/` or `dist/`): frames in it are not user code. */
const UPDRAFT_SOURCE_DIR = fileURLToPath(new URL('../', import.meta.url));

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;

/** The file frames of a stack trace, innermost first (native and eval frames left out). */
export function stackFrames(stack: string): CodeLocation[] {
  const frames: CodeLocation[] = [];
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    let file = match[1] ?? '';
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!path.isAbsolute(file)) continue;
    frames.push({ file, line: Number(match[2]), column: Number(match[3]) });
  }
  return frames;
}

/** Whether a frame is in code a pipeline author wrote (not Updraft, Node or a package). */
export function isUserFrame(location: CodeLocation): boolean {
  return (
    !location.file.startsWith(UPDRAFT_SOURCE_DIR) &&
    !location.file.split(path.sep).includes('node_modules')
  );
}

/** The innermost frame of `stack` in user code, or undefined. */
export function userLocation(stack: string | undefined): CodeLocation | undefined {
  if (stack === undefined) return undefined;
  return stackFrames(stack).find(isUserFrame);
}
