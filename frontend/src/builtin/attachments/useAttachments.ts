// The composer's attachments: files picked, pasted or dropped, each uploaded
// at once with its progress, shown until sent or removed. Limits the page
// config names are checked here first; the server's refusals show in place.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { attachmentsEnabled, formatBytes, typeAccepted } from "../../app/attachmentOptions";
import { makeCsrfFetch } from "../../app/csrf";
import { readPageConfig } from "../../app/config";
import { isAbort } from "../../protocol/errors";
import { deleteAttachment, uploadFile, type StoredAttachment, type UploadTarget } from "./upload";

export interface PendingFile {
  key: string;
  name: string;
  size: number;
  mime: string;
  status: "uploading" | "ready" | "error";
  progress: number;
  /** A local object URL for an image, shown before the server has it. */
  localPreview?: string;
  attachment?: StoredAttachment;
  error?: string;
}

let counter = 0;

export function useAttachments() {
  const target: UploadTarget = useMemo(() => {
    const config = readPageConfig();
    return { apiUrl: config.apiUrl, fetch: makeCsrfFetch(), options: config.attachments };
  }, []);
  const [files, setFiles] = useState<PendingFile[]>([]);
  const aborts = useRef(new Map<string, AbortController>());

  const update = useCallback((key: string, change: Partial<PendingFile>) => {
    setFiles((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));
  }, []);

  // The latest list for event handlers (kept in step after each render, and by add() at once).
  const filesRef = useRef(files);
  useEffect(() => {
    filesRef.current = files;
  }, [files]);

  const add = useCallback(
    (incoming: Iterable<File>) => {
      const { options } = target;
      let live = filesRef.current.filter((f) => f.status !== "error").length;
      const added: PendingFile[] = [];
      for (const file of incoming) {
        const key = `f${++counter}`;
        const entry: PendingFile = { key, name: file.name || "pasted file", size: file.size, mime: file.type, status: "uploading", progress: 0 };
        if (live >= options.maxCount) entry.error = `A message can carry ${options.maxCount} attachments at most.`;
        else if (file.size > options.maxBytes) entry.error = `${formatBytes(file.size)} is over the ${formatBytes(options.maxBytes)} limit.`;
        else if (!typeAccepted(file.type, options.types)) entry.error = `Files of type ${file.type} are not accepted.`;
        if (entry.error) {
          added.push({ ...entry, status: "error" });
          continue;
        }
        live += 1;
        if (file.type.startsWith("image/")) entry.localPreview = URL.createObjectURL(file);
        added.push(entry);
        const controller = new AbortController();
        aborts.current.set(key, controller);
        uploadFile(target, file, (progress) => update(key, { progress }), controller.signal)
          .then((attachment) => update(key, { status: "ready", progress: 1, attachment }))
          .catch((err: unknown) => {
            if (!isAbort(err)) update(key, { status: "error", error: err instanceof Error ? err.message : "The upload failed." });
          })
          .finally(() => aborts.current.delete(key));
      }
      filesRef.current = [...filesRef.current, ...added];
      setFiles((all) => [...all, ...added]);
    },
    [target, update],
  );

  /** Drop a file before sending: stop its upload, or delete what the server already has. */
  const remove = useCallback(
    (key: string) => {
      aborts.current.get(key)?.abort();
      const gone = filesRef.current.find((f) => f.key === key);
      if (gone?.localPreview) URL.revokeObjectURL(gone.localPreview);
      if (gone?.attachment) void deleteAttachment(target, gone.attachment.id).catch(() => undefined);
      setFiles((all) => all.filter((f) => f.key !== key));
    },
    [target],
  );

  /** The uploaded files for a message being sent; the composer empties (refused ones stay in place). */
  const take = useCallback((): PendingFile[] => {
    const ready = files.filter((f) => f.status === "ready");
    setFiles((all) => all.filter((f) => f.status !== "ready"));
    return ready;
  }, [files]);

  /** Put files back when the message never got through. */
  const restore = useCallback((back: PendingFile[]) => setFiles((all) => [...back, ...all]), []);

  useEffect(() => {
    const pending = aborts.current;
    return () => pending.forEach((c) => c.abort());
  }, []);

  return {
    options: target.options,
    enabled: attachmentsEnabled(target.options),
    files,
    add,
    remove,
    take,
    restore,
    uploading: files.some((f) => f.status === "uploading"),
    hasReady: files.some((f) => f.status === "ready"),
  };
}

export type ComposerAttachments = ReturnType<typeof useAttachments>;
