// A sent message's attachments in the thread: images as previews, files as
// download links (both through the owner-checked attachment URLs).
import { useMemo } from "react";
import { attachmentUrl } from "../../app/attachmentOptions";
import { readPageConfig } from "../../app/config";

interface ShownAttachment {
  id: string;
  type?: string;
  name?: string;
  mime_type?: string;
  preview_url?: string | null;
}

export function MessageAttachments({ attachments }: { attachments?: unknown[] }) {
  const options = useMemo(() => readPageConfig().attachments, []);
  const list = (attachments ?? []).filter((a): a is ShownAttachment => !!a && typeof (a as ShownAttachment).id === "string");
  if (list.length === 0) return null;
  return (
    <ul className="flex max-w-[85%] flex-wrap justify-end gap-2" aria-label="Attached files" data-testid="message-attachments">
      {list.map((a) => {
        const href = attachmentUrl(options, a.id);
        const name = a.name ?? "file";
        return (
          <li key={a.id}>
            {a.type === "image" && a.preview_url ? (
              <a href={href} download={name} title={`Download ${name}`} data-testid="attachment-image">
                <img src={a.preview_url} alt={name} className="max-h-48 min-h-16 min-w-16 max-w-64 rounded-xl border border-zinc-200 object-cover dark:border-zinc-700" />
              </a>
            ) : (
              <a
                href={href}
                download={name}
                className="flex items-center gap-2 rounded-xl border border-zinc-200 bg-white px-3 py-2 text-sm text-zinc-800 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200 dark:hover:bg-zinc-800"
                data-testid="attachment-file"
              >
                <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-[10px] font-semibold uppercase text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">
                  {(name.split(".").pop() || "file").slice(0, 4)}
                </span>
                <span className="max-w-48 truncate">{name}</span>
              </a>
            )}
          </li>
        );
      })}
    </ul>
  );
}
