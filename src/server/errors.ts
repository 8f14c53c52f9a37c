/**
 * How errors become HTTP responses: `{ statusCode, code, message, field? }`.
 * - request validation (TypeBox/ajv): 400 with the field at fault (`body.state`),
 * - `FieldError`: 400 with its field (a value the schema admits but the route cannot use),
 * - `ParamsError`: 400 with `field: params.<name>`,
 * - `NotFoundError` 404, `ConflictError` 409, other `UpdraftError` 400 with its code,
 * - anything else: 500 with a generic message (the details go to the log).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ConflictError, NotFoundError, ParamsError, UpdraftError } from '../core/errors.ts';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  field?: string;
}

/** A request field whose value a route cannot use, e.g. `querystring.since`. */
export class FieldError extends Error {
  constructor(
    /** `querystring.since`, `body.alias`, ... */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Registers the error handler on `app`. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const body = toErrorBody(error);
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(body.statusCode).send(body);
  });
}

export function toErrorBody(error: FastifyError | Error): ErrorBody {
  const validation = (error as FastifyError).validation;
  if (validation && validation.length > 0) {
    const v = validation[0]!;
    const context = (error as FastifyError).validationContext ?? 'request';
    const missing = (v.params as { missingProperty?: string; additionalProperty?: string })
      .missingProperty;
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    const pathParts = v.instancePath
      .split('/')
      .filter(Boolean)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (missing) pathParts.push(missing);
    if (extra) pathParts.push(extra);
    const field = [context, ...pathParts].join('.');
    const allowed = (v.params as { allowedValues?: unknown[] }).allowedValues;
    let message = v.message ?? 'is invalid';
    if (extra) message = 'is not a known field';
    else if (missing) message = 'is required';
    else if (allowed) message = `must be one of ${allowed.join(', ')}`;
    return { statusCode: 400, code: 'invalid_request', message: `${field}: ${message}`, field };
  }
  if (error instanceof FieldError) {
    return { statusCode: 400, code: 'invalid_request', message: error.message, field: error.field };
  }
  if (error instanceof ParamsError) {
    return {
      statusCode: 400,
      code: error.code,
      message: error.message,
      field: `params.${error.field}`,
    };
  }
  if (error instanceof NotFoundError)
    return { statusCode: 404, code: error.code, message: error.message };
  if (error instanceof ConflictError)
    return { statusCode: 409, code: error.code, message: error.message };
  if (error instanceof UpdraftError && error.code === 'forbidden')
    return { statusCode: 403, code: error.code, message: error.message };
  if (error instanceof UpdraftError)
    return { statusCode: 400, code: error.code, message: error.message };
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      statusCode: status,
      code: (error as FastifyError).code ?? 'bad_request',
      message: error.message,
    };
  }
  return { statusCode: 500, code: 'internal', message: 'internal error (see the server log)' };
}
