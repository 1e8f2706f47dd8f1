// The message box: Enter sends, Shift+Enter adds a line, and while an answer
// streams the send button becomes a stop button.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { AttachButton, AttachmentTray, dropTarget, pasteFiles } from "./attachments/AttachmentTray";
import { useAttachments } from "./attachments/useAttachments";
import { SendIcon, StopIcon } from "./icons";

export function Composer({
  streaming,
  disabled,
  allowCancel,
  onSend,
  onStop,
  focusKey,
}: {
  streaming: boolean;
  disabled: boolean;
  allowCancel: boolean;
  onSend: (text: string, attachmentIds: string[]) => Promise<boolean>;
  onStop: () => void;
  /** Focus moves back here whenever this changes (a thread opened). */
  focusKey: string | null;
}) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const files = useAttachments();

  useEffect(() => ref.current?.focus(), [focusKey]);

  // Grow with the text, up to a limit.
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const submit = async () => {
    const value = text.trim();
    if ((!value && !files.hasReady) || files.uploading || streaming || disabled) return;
    setText("");
    const attached = files.take();
    const ok = await onSend(value, attached.map((f) => f.attachment!.id));
    // Keep what the person wrote (and attached) when the request never got through.
    if (!ok) {
      setText((current) => current || value);
      files.restore(attached);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="mx-auto w-full max-w-3xl px-4 pb-4"
      {...dropTarget(files)}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="flex flex-wrap items-end gap-2 rounded-2xl border border-zinc-300 bg-white p-2 shadow-sm transition focus-within:border-zinc-400 focus-within:ring-2 focus-within:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-900 dark:focus-within:border-zinc-500">
        <AttachmentTray files={files} />
        <AttachButton files={files} disabled={disabled} />
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={ref}
          rows={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={pasteFiles(files)}
          placeholder="Message the assistant"
          disabled={disabled}
          data-testid="composer-input"
          className="max-h-[200px] min-h-[40px] flex-1 resize-none bg-transparent px-2 py-2 text-[15px] leading-6 text-zinc-900 outline-none placeholder:text-zinc-400 dark:text-zinc-100 dark:placeholder:text-zinc-500"
        />
        {streaming ? (
          <button type="button" onClick={onStop} disabled={!allowCancel} aria-label="Stop answering" title="Stop" data-testid="stop-button" className="send-btn">
            <StopIcon />
          </button>
        ) : (
          <button type="submit" disabled={disabled || (!text.trim() && !files.hasReady) || files.uploading} aria-label="Send message" title="Send (Enter)" data-testid="send-button" className="send-btn">
            <SendIcon />
          </button>
        )}
      </div>
      <p className="mt-2 text-center text-xs text-zinc-500 dark:text-zinc-500">Enter to send · Shift+Enter for a new line</p>
    </form>
  );
}
