// Pure edits of a widget tree, for the widget.* item updates.
import type { WidgetNode } from "./types";

/** A node's children. Typed as arrays by @openai/chatkit; a lone child object is tolerated. */
export function childrenOf(node: WidgetNode): WidgetNode[] {
  const c = (node as { children?: unknown }).children;
  if (!c) return [];
  return (Array.isArray(c) ? c : [c]) as WidgetNode[];
}

/** Returns a new tree with the component whose id is `id` replaced by `fn(component)`. */
export function updateComponent<T extends WidgetNode>(root: T, id: string, fn: (c: WidgetNode) => WidgetNode): T {
  if (root.id === id) return fn(root) as T;
  const c = (root as { children?: unknown }).children;
  if (!c) return root;
  if (Array.isArray(c)) {
    let changed = false;
    const next = (c as WidgetNode[]).map((child) => {
      const updated = updateComponent(child, id, fn);
      if (updated !== child) changed = true;
      return updated;
    });
    return changed ? { ...root, children: next } : root;
  }
  const updated = updateComponent(c as WidgetNode, id, fn);
  return updated === c ? root : { ...root, children: updated };
}

export function findComponent(root: WidgetNode, id: string): WidgetNode | null {
  if (root.id === id) return root;
  for (const child of childrenOf(root)) {
    const hit = findComponent(child, id);
    if (hit) return hit;
  }
  return null;
}
