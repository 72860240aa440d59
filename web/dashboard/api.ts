/**
 * The bridge's API as the page calls it. The admin key (or an OIDC token) lives in this tab's
 * sessionStorage only and travels as a header on each fetch — never in a URL, a cookie or the
 * page's address.
 */

const STORAGE_KEY = 'portal-bridge.admin-credential';

/** The API base: the page is served at <base>/dashboard. */
export const API_BASE = new URL('.', window.location.href).pathname.replace(/\/$/, '');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const credential = {
  get(): string | null {
    return sessionStorage.getItem(STORAGE_KEY);
  },
  set(value: string): void {
    sessionStorage.setItem(STORAGE_KEY, value);
  },
  clear(): void {
    sessionStorage.removeItem(STORAGE_KEY);
  },
};

/** A JWT (three base64url parts) goes as a bearer token; anything else is an API key. */
function authHeaders(value: string): Record<string, string> {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)
    ? { authorization: `Bearer ${value}` }
    : { 'x-api-key': value };
}

/** Called when the bridge refuses the credential (401/403): the page signs out. */
let onRefused: (message: string) => void = () => undefined;
export function whenRefused(listener: (message: string) => void): void {
  onRefused = listener;
}

export async function api<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 8000,
): Promise<T> {
  const value = credential.get();
  if (!value) throw new ApiError(401, 'not signed in');
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(value) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal: controller.signal,
    });
  } catch (error) {
    throw new ApiError(
      0,
      controller.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : String(error),
    );
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok && response.status !== 504) {
    const detail =
      (parsed as { detail?: string; title?: string } | undefined)?.detail ??
      (parsed as { title?: string } | undefined)?.title ??
      `HTTP ${response.status}`;
    if (response.status === 401 || response.status === 403) onRefused(detail);
    throw new ApiError(response.status, detail);
  }
  return parsed as T;
}
