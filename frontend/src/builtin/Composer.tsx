// The message box: Enter sends, Shift+Enter adds a line (on a touch screen
// Enter adds a line and the button sends), and while an answer streams the
// send button becomes a stop button. With two or more models, a picker.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { ModelChoice } from "../app/config";
import { AttachButton, AttachmentTray, dropTarget, pasteFiles } from "./attachments/AttachmentTray";
import { useAttachments } from "./attachments/useAttachments";
import { SendIcon, StopIcon } from "./icons";
import { useTouchScreen } from "./useMediaQuery";

export function Composer({
  streaming,
  disabled,
  disabledReason = null,
  describedBy,
  allowCancel,
  models = [],
  model = null,
  onModelChange = () => {},
  onSend,
  onStop,
  focusKey,
}: {
  streaming: boolean;
  disabled: boolean;
  /** Why the box is disabled, shown as its placeholder (a locked thread). */
  disabledReason?: string | null;
  /** The id of an element that explains the state (the thread-status banner). */
  describedBy?: string;
  allowCancel: boolean;
  models?: ModelChoice[];
  model?: string | null;
  onModelChange?: (model: string) => void;
  onSend: (text: string, attachmentIds: string[]) => Promise<boolean>;
  onStop: () => void;
  /** Focus moves back here whenever this changes (a thread opened). */
  focusKey: string | null;
}) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const touch = useTouchScreen();
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
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && !touch) {
      e.preventDefault();
      void submit();
    }
  };

  const showPicker = models.length > 1;

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
          dir="auto"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={pasteFiles(files)}
          placeholder={disabled && disabledReason ? disabledReason : "Message the assistant"}
          disabled={disabled}
          aria-describedby={describedBy}
          data-testid="composer-input"
          className="max-h-[200px] min-h-[40px] flex-1 resize-none bg-transparent px-2 py-2 text-[15px] leading-6 text-zinc-900 outline-none placeholder:text-zinc-500 dark:text-zinc-100 dark:placeholder:text-zinc-400"
        />
        {showPicker && (
          <>
            <label htmlFor="model-picker" className="sr-only">
              Model
            </label>
            <select
              id="model-picker"
              value={model ?? ""}
              onChange={(e) => onModelChange(e.target.value)}
              disabled={disabled || streaming}
              data-testid="model-picker"
              className="h-9 max-w-40 shrink-0 rounded-lg border border-zinc-300 bg-white px-2 text-sm text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
            >
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label}
                </option>
              ))}
            </select>
          </>
        )}
        {streaming ? (
          <button type="button" onClick={onStop} disabled={!allowCancel} aria-label="Stop answering" title="Stop" data-testid="stop-button" className="send-btn">
            <StopIcon />
          </button>
        ) : (
          <button type="submit" disabled={disabled || (!text.trim() && !files.hasReady) || files.uploading} aria-label="Send message" title={touch ? "Send" : "Send (Enter)"} data-testid="send-button" className="send-btn">
            <SendIcon />
          </button>
        )}
      </div>
      {!touch && (
        <p className="mt-2 text-center text-xs text-zinc-600 dark:text-zinc-400" data-testid="composer-hint">
          Enter to send · Shift+Enter for a new line
        </p>
      )}
    </form>
  );
}
