// Django's CSRF protection stays on for /chatkit: every request carries the
// token from the `csrftoken` cookie (set by the page view) as X-CSRFToken.
import type { FetchLike } from "../protocol/client";

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

/** A fetch that adds X-CSRFToken and sends cookies to the same origin only. */
export function makeCsrfFetch(base: FetchLike = (...a) => window.fetch(...a), cookies: () => string = () => document.cookie): FetchLike {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    const token = readCookie("csrftoken", cookies());
    if (token) headers.set("X-CSRFToken", token);
    return base(input, { ...init, headers, credentials: "same-origin" });
  };
}
