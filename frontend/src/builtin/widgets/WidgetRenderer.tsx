// Draws a ChatKit widget from its JSON. Each component type has one small
// renderer; unknown types render their children (or nothing) rather than fail.
import { createContext, useContext, type CSSProperties, type FormEvent, type ReactNode } from "react";
import type { Theme } from "../../app/store";
import type { ActionConfig, WidgetNode, WidgetRoot } from "../../protocol/types";
import { childrenOf } from "../../protocol/widgetTree";
import { Markdown } from "../Markdown";
import { boxStyle, CAPTION_SIZES, color, sizeStyle, space, TEXT_SIZES, TITLE_SIZES, WEIGHTS } from "./style";

interface WidgetEnv {
  theme: Theme;
  disabled: boolean;
  onAction: (action: ActionConfig, formValues?: Record<string, unknown>) => void;
}

const Env = createContext<WidgetEnv>({ theme: "light", disabled: false, onAction: () => {} });

const kids = childrenOf;

/**
 * A node's props, read defensively: the tree is typed by @openai/chatkit, but
 * it is JSON from a server that may be newer, so each renderer checks what it reads.
 */
type Props = { readonly [prop: string]: unknown };

function Children({ node }: { node: WidgetNode }) {
  return (
    <>
      {kids(node).map((child, i) => (
        <Node key={child.key ?? child.id ?? i} node={child} />
      ))}
    </>
  );
}

const str = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : String(v));

function textStyle(p: Props, theme: Theme, sizes: Record<string, string>): CSSProperties {
  const maxLines = typeof p.maxLines === "number" ? p.maxLines : p.truncate ? 1 : undefined;
  return {
    color: color(p.color, theme),
    fontWeight: typeof p.weight === "string" ? WEIGHTS[p.weight] : undefined,
    fontSize: typeof p.size === "string" ? sizes[p.size] : undefined,
    textAlign: p.textAlign as CSSProperties["textAlign"],
    fontStyle: p.italic ? "italic" : undefined,
    textDecoration: p.lineThrough ? "line-through" : undefined,
    width: typeof p.width === "number" ? `${p.width}px` : (p.width as string | undefined),
    ...(maxLines
      ? { display: "-webkit-box", WebkitLineClamp: maxLines, WebkitBoxOrient: "vertical", overflow: "hidden" }
      : {}),
  };
}

function formValues(form: HTMLFormElement): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  new FormData(form).forEach((v, k) => {
    values[k] = typeof v === "string" ? v : v.name;
  });
  return values;
}

function Node({ node }: { node: WidgetNode }): ReactNode {
  const env = useContext(Env);
  const { theme } = env;
  const p: Props = node;
  switch (node.type) {
    case "Card":
    case "Basic": {
      const cardStyle: CSSProperties = {
        background: color(p.background, theme),
        padding: space(p.padding) ?? (node.type === "Card" ? "16px" : undefined),
      };
      const confirm = p.confirm as { label: string; action: ActionConfig } | undefined;
      const cancel = p.cancel as { label: string; action: ActionConfig } | undefined;
      const body = (
        <>
          <div className="flex flex-col gap-3">
            <Children node={node} />
          </div>
          {(confirm || cancel) && (
            <div className="mt-4 flex justify-end gap-2">
              {cancel && (
                <button type="button" className="w-btn w-btn-secondary" disabled={env.disabled} onClick={() => env.onAction(cancel.action)}>
                  {cancel.label}
                </button>
              )}
              {confirm && (
                <button type={p.asForm ? "submit" : "button"} className="w-btn w-btn-primary" disabled={env.disabled} onClick={p.asForm ? undefined : () => env.onAction(confirm.action)}>
                  {confirm.label}
                </button>
              )}
            </div>
          )}
        </>
      );
      const cls = node.type === "Card" ? "w-card" : "";
      const width = p.size === "sm" ? "max-w-sm" : p.size === "lg" ? "max-w-2xl" : p.size === "full" ? "w-full" : "max-w-md";
      if (p.asForm && confirm) {
        const submit = (e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          env.onAction(confirm.action, formValues(e.currentTarget));
        };
        return (
          <form className={`${cls} ${width}`} style={cardStyle} onSubmit={submit} data-testid="widget-card">
            {body}
          </form>
        );
      }
      return (
        <div className={`${cls} ${node.type === "Card" ? width : ""}`} style={cardStyle} data-testid={node.type === "Card" ? "widget-card" : undefined}>
          {body}
        </div>
      );
    }
    case "ListView": {
      const items = kids(node);
      const limit = typeof p.limit === "number" ? p.limit : items.length;
      return (
        <div className="w-card max-w-md divide-y divide-[var(--w-border)] p-0" role="list" data-testid="widget-listview">
          {items.slice(0, limit).map((child, i) => (
            <Node key={child.key ?? child.id ?? i} node={child} />
          ))}
        </div>
      );
    }
    case "ListViewItem": {
      const action = p.onClickAction as ActionConfig | undefined;
      const style: CSSProperties = { gap: space(p.gap) ?? "12px", alignItems: typeof p.align === "string" ? p.align : "center" };
      if (action) {
        return (
          <button type="button" role="listitem" className="flex w-full px-4 py-3 text-left hover:bg-[var(--w-surface-2)] focus-visible:outline-2" style={style} disabled={env.disabled} onClick={() => env.onAction(action)}>
            <Children node={node} />
          </button>
        );
      }
      return (
        <div role="listitem" className="flex px-4 py-3" style={style}>
          <Children node={node} />
        </div>
      );
    }
    case "Row":
      return (
        <div style={boxStyle(p, theme, "row")}>
          <Children node={node} />
        </div>
      );
    case "Col":
      return (
        <div style={boxStyle(p, theme, "column")}>
          <Children node={node} />
        </div>
      );
    case "Box":
      return (
        <div style={boxStyle(p, theme, p.direction === "row" ? "row" : "column")}>
          <Children node={node} />
        </div>
      );
    case "Form": {
      const action = p.onSubmitAction as ActionConfig | undefined;
      return (
        <form
          style={boxStyle(p, theme, p.direction === "row" ? "row" : "column")}
          onSubmit={(e) => {
            e.preventDefault();
            if (action) env.onAction(action, formValues(e.currentTarget));
          }}
        >
          <Children node={node} />
        </form>
      );
    }
    case "Spacer":
      return <div style={{ flex: 1, minWidth: space(p.minSize), minHeight: space(p.minSize) }} />;
    case "Divider":
      return (
        <hr
          className="border-0"
          style={{
            borderTop: `${typeof p.size === "number" ? p.size : 1}px solid ${color(p.color, theme) ?? "var(--w-border)"}`,
            marginBlock: space(p.spacing) ?? "4px",
            marginInline: p.flush ? "-16px" : undefined,
          }}
        />
      );
    case "Text":
      return (
        <p className="w-text" dir="auto" style={textStyle(p, theme, TEXT_SIZES)}>
          {str(p.value)}
          {p.streaming ? <span className="caret" aria-hidden="true" /> : null}
        </p>
      );
    case "Title":
      return (
        <h3 className="w-title" dir="auto" style={textStyle(p, theme, TITLE_SIZES)}>
          {str(p.value)}
        </h3>
      );
    case "Caption":
      return (
        <p className="w-caption" dir="auto" style={textStyle(p, theme, CAPTION_SIZES)}>
          {str(p.value)}
        </p>
      );
    case "Label":
      return (
        <label htmlFor={`w-${str(p.fieldName)}`} className="text-sm font-medium" style={{ color: color(p.color, theme) }}>
          {str(p.value)}
        </label>
      );
    case "Markdown":
      return <Markdown text={str(p.value)} />;
    case "Badge":
      return (
        <span className={`w-badge w-badge-${str(p.color) || "secondary"} w-badge-${str(p.variant) || "soft"} ${p.pill ? "rounded-full" : "rounded-md"}`}>
          {str(p.label)}
        </span>
      );
    case "Button": {
      const action = p.onClickAction as ActionConfig | undefined;
      const primary = p.style === "primary" || p.color === "primary" || p.variant === "solid";
      return (
        <button
          type={p.submit ? "submit" : "button"}
          className={`w-btn ${primary ? "w-btn-primary" : "w-btn-secondary"} ${p.block ? "w-full" : ""} ${p.pill ? "rounded-full" : ""}`}
          disabled={env.disabled || p.disabled === true}
          onClick={action && !p.submit ? () => env.onAction(action) : undefined}
          data-testid="widget-button"
        >
          {str(p.label)}
        </button>
      );
    }
    case "Image":
      return (
        <img
          src={str(p.src)}
          alt={str(p.alt)}
          className={p.frame ? "border border-[var(--w-border)]" : undefined}
          style={{ objectFit: (p.fit as CSSProperties["objectFit"]) ?? "cover", objectPosition: p.position as string | undefined, ...sizeStyle(p), background: color(p.background, theme) }}
        />
      );
    case "Icon":
      return <span aria-hidden="true" className="inline-block size-4 rounded-full bg-current opacity-40" style={{ color: color(p.color, theme) }} />;
    case "Input":
      return (
        <input
          id={`w-${str(p.name)}`}
          name={str(p.name)}
          type={str(p.inputType) || "text"}
          defaultValue={str(p.defaultValue)}
          placeholder={str(p.placeholder)}
          required={p.required === true}
          disabled={env.disabled || p.disabled === true}
          className="w-input"
        />
      );
    case "Textarea":
      return (
        <textarea
          id={`w-${str(p.name)}`}
          name={str(p.name)}
          defaultValue={str(p.defaultValue)}
          placeholder={str(p.placeholder)}
          rows={typeof p.rows === "number" ? p.rows : 3}
          required={p.required === true}
          disabled={env.disabled || p.disabled === true}
          className="w-input"
        />
      );
    case "Select": {
      const options = (p.options as { value: string; label: string; disabled?: boolean }[] | undefined) ?? [];
      return (
        <select id={`w-${str(p.name)}`} name={str(p.name)} defaultValue={str(p.defaultValue)} disabled={env.disabled || p.disabled === true} className="w-input">
          {p.placeholder ? <option value="">{str(p.placeholder)}</option> : null}
          {options.map((o) => (
            <option key={o.value} value={o.value} disabled={o.disabled}>
              {o.label}
            </option>
          ))}
        </select>
      );
    }
    case "Checkbox":
      return (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name={str(p.name)} defaultChecked={p.defaultChecked === true} disabled={env.disabled || p.disabled === true} />
          {str(p.label)}
        </label>
      );
    case "Transition":
      return <Children node={node} />;
    default:
      return kids(node).length ? <Children node={node} /> : null;
  }
}

export function WidgetRenderer({
  widget,
  theme,
  disabled = false,
  onAction,
}: {
  widget: WidgetRoot;
  theme: Theme;
  disabled?: boolean;
  onAction: WidgetEnv["onAction"];
}) {
  return (
    <Env.Provider value={{ theme, disabled, onAction }}>
      <div className="widget" data-testid="widget" data-theme={theme}>
        <Node node={widget} />
      </div>
    </Env.Provider>
  );
}
