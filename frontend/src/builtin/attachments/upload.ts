// Sending a file to the server by either ChatKit strategy, with progress.
// Two-phase: `attachments.create` on /chatkit, then the bytes to the returned
// upload descriptor. Direct: one multipart POST. XMLHttpRequest, not fetch,
// because only it reports upload progress.
import { attachmentUrl, type AttachmentOptions } from "../../app/attachmentOptions";
import { readCookie } from "../../app/csrf";
import type { FetchLike } from "../../protocol/client";
import { ChatKitError, errorFromResponse } from "../../protocol/errors";

/** An attachment as the server describes it (chatkit.types.Attachment). */
export interface StoredAttachment {
  id: string;
  type: "file" | "image";
  name: string;
  mime_type: string;
  preview_url?: string | null;
  upload_descriptor?: { url: string; method: "POST" | "PUT"; headers?: Record<string, string> } | null;
}

export interface UploadTarget {
  apiUrl: string;
  fetch: FetchLike;
  options: AttachmentOptions;
}

function errorFromXhr(xhr: XMLHttpRequest): ChatKitError {
  let code = `http_${xhr.status}`;
  let message = xhr.status ? `The upload was refused (${xhr.status}).` : "The upload could not reach the server.";
  try {
    const err = (JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } }).error;
    if (err?.code) code = err.code;
    if (err?.message) message = err.message;
  } catch {
    // Not JSON: keep the status.
  }
  return new ChatKitError(xhr.status ? "http" : "network", code, message, { status: xhr.status || null });
}

/** Send the bytes: multipart POST (field "file") or a raw PUT; resolves with the stored attachment JSON. */
export function sendBytes(
  url: string,
  method: "POST" | "PUT",
  file: File,
  headers: Record<string, string>,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<StoredAttachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = false; // same-origin requests carry cookies anyway
    const token = readCookie("csrftoken");
    for (const [k, v] of Object.entries({ ...headers, ...(token ? { "X-CSRFToken": token } : {}) })) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as StoredAttachment);
        } catch {
          reject(new ChatKitError("protocol", "bad_json", "The server sent an answer that is not JSON."));
        }
      } else reject(errorFromXhr(xhr));
    };
    xhr.onerror = () => reject(errorFromXhr(xhr));
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    if (method === "PUT") {
      if (file.type) xhr.setRequestHeader("Content-Type", file.type);
      xhr.send(file);
    } else {
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    }
  });
}

async function postJson<T>(target: UploadTarget, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await target.fetch(target.apiUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    throw new ChatKitError("network", "network_error", "Could not reach the server. Check your connection and try again.");
  }
  if (!res.ok) throw await errorFromResponse(res);
  return (await res.json()) as T;
}

/** Upload one file by the page's strategy; resolves with the stored attachment (no upload descriptor). */
export async function uploadFile(
  target: UploadTarget,
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<StoredAttachment> {
  if (target.options.strategy === "direct") {
    return sendBytes(target.options.uploadUrl, "POST", file, {}, onProgress, signal);
  }
  const created = await postJson<StoredAttachment>(target, {
    type: "attachments.create",
    params: { name: file.name, size: file.size, mime_type: file.type },
  });
  const descriptor = created.upload_descriptor;
  if (!descriptor) return created;
  return sendBytes(descriptor.url, descriptor.method, file, descriptor.headers ?? {}, onProgress, signal);
}

export function deleteAttachment(target: UploadTarget, id: string): Promise<unknown> {
  return postJson(target, { type: "attachments.delete", params: { attachment_id: id } });
}

export { attachmentUrl };
