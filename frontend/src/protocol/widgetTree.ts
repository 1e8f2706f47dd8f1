// Pure edits of a widget tree, for the widget.* item updates.
import type { WidgetComponent } from "./types";

function childrenOf(node: WidgetComponent): WidgetComponent[] {
  const c = node.children;
  if (!c) return [];
  return Array.isArray(c) ? c : [c];
}

/** Returns a new tree with the component whose id is `id` replaced by `fn(component)`. */
export function updateComponent(
  root: WidgetComponent,
  id: string,
  fn: (c: WidgetComponent) => WidgetComponent,
): WidgetComponent {
  if (root.id === id) return fn(root);
  const c = root.children;
  if (!c) return root;
  if (Array.isArray(c)) {
    let changed = false;
    const next = c.map((child) => {
      const updated = updateComponent(child, id, fn);
      if (updated !== child) changed = true;
      return updated;
    });
    return changed ? { ...root, children: next } : root;
  }
  const updated = updateComponent(c, id, fn);
  return updated === c ? root : { ...root, children: updated };
}

export function findComponent(root: WidgetComponent, id: string): WidgetComponent | null {
  if (root.id === id) return root;
  for (const child of childrenOf(root)) {
    const hit = findComponent(child, id);
    if (hit) return hit;
  }
  return null;
}
