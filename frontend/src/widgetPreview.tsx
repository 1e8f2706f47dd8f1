// The admin's widget preview: a template's widget built from its sample data,
// drawn by the built-in client's own renderer. Django puts {widget, error} in
// the page (json_script "widget-preview-data"); clicks show the action they
// would send instead of sending it.
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { WidgetRenderer } from "./builtin/widgets/WidgetRenderer";
import type { ActionConfig, WidgetRoot } from "./protocol/types";
import "./index.css";

interface PreviewData {
  widget: WidgetRoot | null;
  error: string;
}

function readData(): PreviewData {
  try {
    const raw = document.getElementById("widget-preview-data")?.textContent;
    const data = raw ? (JSON.parse(raw) as Partial<PreviewData>) : {};
    return { widget: data.widget ?? null, error: data.error ?? "" };
  } catch {
    return { widget: null, error: "The preview data could not be read." };
  }
}

function Preview({ data }: { data: PreviewData }) {
  const [sent, setSent] = useState<string | null>(null);
  if (!data.widget) {
    return (
      <p role="alert" data-testid="preview-error" className="text-sm text-red-700">
        {data.error || "Nothing to preview."}
      </p>
    );
  }
  const onAction = (action: ActionConfig, values?: Record<string, unknown>) => {
    const payload = values ? { ...((action.payload as object) ?? {}), ...values } : action.payload;
    setSent(`${action.handler === "client" ? "client" : "server"} action ${action.type} ${JSON.stringify(payload ?? {})}`);
  };
  return (
    <div className="flex flex-col gap-3">
      <WidgetRenderer widget={data.widget} theme="light" onAction={onAction} />
      <p className="text-xs text-zinc-500" data-testid="preview-action" aria-live="polite">
        {sent ? `Would send: ${sent}` : "Buttons show the action they would send."}
      </p>
    </div>
  );
}

const root = document.getElementById("preview-root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <Preview data={readData()} />
    </StrictMode>,
  );
}
