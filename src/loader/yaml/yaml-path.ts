/**
 * Paths inside a YAML pipeline document, as errors show them: map keys joined by `.`,
 * list indexes in brackets (`dags.orders.tasks.load.config.env.HOME`, `tags[1]`).
 */

/** A path: map keys and list indexes from the document root. */
export type YamlPath = readonly (string | number)[];

/** Formats a path for messages (`dags.orders.tags[1]`). */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else out += out === '' ? step : `.${step}`;
  }
  return out;
}

/** The path of a JSON pointer (`/dags/orders/tags/1`), as ajv reports instance paths. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => {
      const step = part.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^(?:0|[1-9]\d*)$/.test(step) ? Number(step) : step;
    });
}
