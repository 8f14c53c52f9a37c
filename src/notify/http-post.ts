/**
 * One HTTP POST of a notifier, classified for retries: network errors, timeouts, 429 and
 * 5xx may succeed later (retryable); other 4xx answers will not (wrong URL, revoked token).
 */
import { NotifyError } from './notifier.ts';

/** How long a receiver may take to answer (default). */
export const POST_TIMEOUT_MS = 10_000;

/** Posts `body`; resolves on a 2xx answer, else rejects with `NotifyError`. */
export async function postNotification(
  what: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = POST_TIMEOUT_MS,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new NotifyError(`${what}: could not reach the receiver: ${reason}`, {
      retryable: true,
      cause: error,
    });
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  const retryable = response.status === 429 || response.status >= 500;
  throw new NotifyError(
    `${what}: the receiver answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    { retryable },
  );
}
