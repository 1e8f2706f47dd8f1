// Maps ChatKit widget props (chatkit/widgets.py) to CSS. Numbers for spacing
// are ChatKit's 4px units; numbers for sizes are pixels.
import type { CSSProperties } from "react";
import type { Theme } from "../../app/store";

type Themed = string | { light: string; dark: string };

const NAMED_COLORS: Record<string, string> = {
  prose: "var(--w-fg)",
  primary: "var(--w-fg)",
  emphasis: "var(--w-fg)",
  secondary: "var(--w-muted)",
  tertiary: "var(--w-faint)",
  success: "#16a34a",
  danger: "#dc2626",
  warning: "#d97706",
  caution: "#d97706",
  info: "#2563eb",
  discovery: "#7c3aed",
  "surface": "var(--w-surface)",
  "surface-secondary": "var(--w-surface-2)",
  "surface-tertiary": "var(--w-surface-3)",
};

export function color(value: unknown, theme: Theme): string | undefined {
  if (value == null) return undefined;
  const v: unknown = typeof value === "object" ? (value as { light?: string; dark?: string })[theme] : value;
  if (typeof v !== "string") return undefined;
  return NAMED_COLORS[v] ?? (v.startsWith("alpha-") ? `color-mix(in srgb, currentColor ${v.slice(6)}%, transparent)` : v);
}

export function space(value: unknown): string | undefined {
  if (typeof value === "number") return `${value * 4}px`;
  if (typeof value === "string") return value;
  return undefined;
}

function size(value: unknown): string | undefined {
  if (typeof value === "number") return `${value}px`;
  if (typeof value === "string") return value;
  return undefined;
}

type Spacing = { top?: unknown; right?: unknown; bottom?: unknown; left?: unknown; x?: unknown; y?: unknown };

function box(prefix: "padding" | "margin", value: unknown): CSSProperties {
  if (value == null) return {};
  if (typeof value !== "object") return { [prefix]: space(value) };
  const s = value as Spacing;
  return {
    [`${prefix}Top`]: space(s.top ?? s.y),
    [`${prefix}Bottom`]: space(s.bottom ?? s.y),
    [`${prefix}Left`]: space(s.left ?? s.x),
    [`${prefix}Right`]: space(s.right ?? s.x),
  };
}

const RADII: Record<string, string> = { "2xs": "2px", xs: "4px", sm: "6px", md: "8px", lg: "12px", xl: "16px", "2xl": "20px", "3xl": "24px", "4xl": "32px", full: "9999px", "100%": "100%", none: "0" };
const ALIGN: Record<string, string> = { start: "flex-start", center: "center", end: "flex-end", baseline: "baseline", stretch: "stretch" };
const JUSTIFY: Record<string, string> = { ...ALIGN, between: "space-between", around: "space-around", evenly: "space-evenly" };

function border(value: unknown, theme: Theme): CSSProperties {
  if (value == null) return {};
  const one = (v: unknown) => {
    if (typeof v === "number") return `${v}px solid var(--w-border)`;
    const b = v as { size?: number; color?: Themed; style?: string };
    return `${b.size ?? 1}px ${b.style ?? "solid"} ${color(b.color, theme) ?? "var(--w-border)"}`;
  };
  if (typeof value === "number" || (typeof value === "object" && "size" in (value as object))) return { border: one(value) };
  const s = value as Spacing;
  const side = (v: unknown) => (v == null ? undefined : one(v));
  return {
    borderTop: side(s.top ?? s.y),
    borderBottom: side(s.bottom ?? s.y),
    borderLeft: side(s.left ?? s.x),
    borderRight: side(s.right ?? s.x),
  };
}

/** Layout props shared by Box, Row, Col, Form (BoxBase). */
export function boxStyle(p: Record<string, unknown>, theme: Theme, direction: "row" | "column"): CSSProperties {
  return {
    display: "flex",
    flexDirection: direction,
    alignItems: typeof p.align === "string" ? ALIGN[p.align] : direction === "row" ? "center" : undefined,
    justifyContent: typeof p.justify === "string" ? JUSTIFY[p.justify] : undefined,
    flexWrap: p.wrap as CSSProperties["flexWrap"],
    flex: p.flex as CSSProperties["flex"],
    gap: space(p.gap),
    height: size(p.height ?? p.size),
    width: size(p.width ?? p.size),
    minHeight: size(p.minHeight ?? p.minSize),
    minWidth: size(p.minWidth ?? p.minSize),
    maxHeight: size(p.maxHeight ?? p.maxSize),
    maxWidth: size(p.maxWidth ?? p.maxSize),
    aspectRatio: p.aspectRatio as CSSProperties["aspectRatio"],
    borderRadius: typeof p.radius === "string" ? RADII[p.radius] : undefined,
    background: color(p.background, theme),
    ...box("padding", p.padding),
    ...box("margin", p.margin),
    ...border(p.border, theme),
  };
}

export function sizeStyle(p: Record<string, unknown>): CSSProperties {
  return {
    height: size(p.height ?? p.size),
    width: size(p.width ?? p.size),
    minHeight: size(p.minHeight ?? p.minSize),
    minWidth: size(p.minWidth ?? p.minSize),
    maxHeight: size(p.maxHeight ?? p.maxSize),
    maxWidth: size(p.maxWidth ?? p.maxSize),
    aspectRatio: p.aspectRatio as CSSProperties["aspectRatio"],
    flex: p.flex as CSSProperties["flex"],
    borderRadius: typeof p.radius === "string" ? RADII[p.radius] : undefined,
    ...box("margin", p.margin),
  };
}

export const TEXT_SIZES: Record<string, string> = { xs: "12px", sm: "14px", md: "16px", lg: "18px", xl: "20px" };
export const TITLE_SIZES: Record<string, string> = { sm: "16px", md: "18px", lg: "20px", xl: "24px", "2xl": "28px", "3xl": "32px", "4xl": "36px", "5xl": "48px" };
export const CAPTION_SIZES: Record<string, string> = { sm: "12px", md: "13px", lg: "14px" };
export const WEIGHTS: Record<string, number> = { normal: 400, medium: 500, semibold: 600, bold: 700 };
