import { ApiError, get, type SessionInfo } from '../api.ts';

/** Saves a blob under a file name (the browser's download). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Shows a blob in a new tab (the subject access summary opens to be read and printed, not downloaded). Called within
 * the click's user activation, so the browser does not block the tab.
 */
export function openBlob(blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A POST whose answer is a file (not JSON): same cookie and CSRF header as the inbox's api(). */
export async function postForFile(path: string, body: unknown): Promise<Blob> {
  const session = await get<SessionInfo>('/auth/session');
  const res = await fetch(`/api/v1${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as {
      error?: { code: string; message: string; details?: Record<string, unknown> };
    };
    const e = data.error ?? { code: 'HTTP', message: `HTTP ${res.status}` };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return res.blob();
}

/** A query string of the non-empty parameters. */
export function query(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  return q.toString();
}
