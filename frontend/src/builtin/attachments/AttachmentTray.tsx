// The composer's pieces for attachments: the paperclip picker and the tray of
// files being uploaded (progress, preview, remove, the refusal in place).
import { useRef, type ClipboardEvent, type DragEvent } from "react";
import { acceptAttribute, formatBytes } from "../../app/attachmentOptions";
import type { ComposerAttachments, PendingFile } from "./useAttachments";

export const PaperclipIcon = () => (
  <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" width="1em" height="1em">
    <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
  </svg>
);

export function AttachButton({ files, disabled }: { files: ComposerAttachments; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  if (!files.enabled) return null;
  return (
    <>
      <button
        type="button"
        className="send-btn bg-transparent text-zinc-500 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
        onClick={() => input.current?.click()}
        disabled={disabled}
        aria-label="Attach files"
        title="Attach files (or paste, or drop them here)"
        data-testid="attach-button"
      >
        <PaperclipIcon />
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        accept={acceptAttribute(files.options)}
        data-testid="attach-input"
        onChange={(e) => {
          if (e.target.files) files.add(Array.from(e.target.files));
          e.target.value = ""; // the same file can be picked again
        }}
      />
    </>
  );
}

function Chip({ file, onRemove }: { file: PendingFile; onRemove: () => void }) {
  const preview = file.attachment?.preview_url ?? file.localPreview;
  return (
    <li
      className={`relative flex max-w-64 items-center gap-2 rounded-xl border px-2 py-1.5 text-xs ${
        file.status === "error" ? "border-red-300 bg-red-50 text-red-800 dark:border-red-900 dark:bg-red-950/60 dark:text-red-200" : "border-zinc-200 bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-800"
      }`}
      data-testid="composer-attachment"
      data-status={file.status}
    >
      {preview && file.mime.startsWith("image/") ? (
        <img src={preview} alt="" className="size-9 shrink-0 rounded-md object-cover" />
      ) : (
        <span className="flex size-9 shrink-0 items-center justify-center rounded-md bg-zinc-200 text-[10px] font-semibold uppercase text-zinc-600 dark:bg-zinc-700 dark:text-zinc-300">
          {(file.name.split(".").pop() || "file").slice(0, 4)}
        </span>
      )}
      <span className="min-w-0 flex-1">
        <span className="block truncate font-medium">{file.name}</span>
        {file.status === "error" ? (
          <span role="alert" className="block" data-testid="attachment-error">
            {file.error}
          </span>
        ) : (
          <span className="block text-zinc-500 dark:text-zinc-400">{file.status === "uploading" ? `Uploading… ${Math.round(file.progress * 100)}%` : formatBytes(file.size)}</span>
        )}
      </span>
      <button type="button" className="icon-btn-sm shrink-0" onClick={onRemove} aria-label={`Remove ${file.name}`} title="Remove" data-testid="remove-attachment">
        ×
      </button>
      {file.status === "uploading" && (
        <span className="absolute inset-x-2 bottom-0.5 h-0.5 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-700" aria-hidden="true">
          <span className="block h-full bg-indigo-500 transition-[width]" style={{ width: `${Math.round(file.progress * 100)}%` }} />
        </span>
      )}
    </li>
  );
}

export function AttachmentTray({ files }: { files: ComposerAttachments }) {
  if (files.files.length === 0) return null;
  return (
    <ul className="flex basis-full flex-wrap gap-2 px-1" aria-label="Attachments" data-testid="composer-attachments">
      {files.files.map((f) => (
        <Chip key={f.key} file={f} onRemove={() => files.remove(f.key)} />
      ))}
    </ul>
  );
}

/** Props for the composer's form: files dropped on it are attached. */
export function dropTarget(files: ComposerAttachments) {
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");
  return {
    onDragOver: (e: DragEvent) => {
      if (files.enabled && hasFiles(e)) e.preventDefault();
    },
    onDrop: (e: DragEvent) => {
      if (!files.enabled || !hasFiles(e)) return;
      e.preventDefault();
      files.add(Array.from(e.dataTransfer.files));
    },
  };
}

/** The textarea's paste handler: pasted files (a screenshot) are attached, text pastes as usual. */
export function pasteFiles(files: ComposerAttachments) {
  return (e: ClipboardEvent) => {
    const pasted = Array.from(e.clipboardData.files);
    if (!files.enabled || pasted.length === 0) return;
    e.preventDefault();
    files.add(pasted);
  };
}
