/**
 * Environment interpolation in YAML pipeline values: `${VAR}` is the value of the
 * environment variable `VAR` and `${VAR:-default}` falls back to `default` when `VAR` is
 * unset or empty. `$${...}` writes a literal `${...}` (for shell commands that expand
 * variables themselves). It happens once, when the file is loaded; the run-time templates
 * (`{{ ds }}`) are left alone.
 */

/** What an interpolation read: each variable's value when loaded (undefined: unset). */
export type EnvReads = Map<string, string | undefined>;

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The outcome: the text with variables replaced, or what is wrong with it. */
export type Interpolated =
  | { ok: true; text: string }
  | { ok: false; message: string; hint: string };

/**
 * Replaces the `${...}` references in `text` with values from `env`, recording each
 * variable read in `reads`. A reference to an unset variable without a default, or one
 * that is not a variable name, is an error.
 */
export function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  reads: EnvReads,
): Interpolated {
  if (!text.includes('${')) return { ok: true, text };
  let failure: Interpolated | undefined;
  const out = text.replace(REFERENCE, (whole, dollar: string, body: string) => {
    if (dollar === '$') return whole.slice(1);
    const split = body.indexOf(':-');
    const name = split === -1 ? body : body.slice(0, split);
    if (!NAME.test(name)) {
      failure ??= {
        ok: false,
        message: `'\${${body}}' is not an environment variable reference`,
        hint: `write \${NAME} or \${NAME:-default}; write $\${...} for a literal '\${'`,
      };
      return whole;
    }
    const value = env[name];
    reads.set(name, value);
    if (value !== undefined && value !== '') return value;
    if (split !== -1) return body.slice(split + 2);
    failure ??= {
      ok: false,
      message: `environment variable ${name} is not set`,
      hint: `set ${name}, give a default with \${${name}:-value}, or write $\${${name}} to leave it to the shell`,
    };
    return whole;
  });
  return failure ?? { ok: true, text: out };
}
