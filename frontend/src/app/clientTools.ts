// Client tools: functions the server's agent asks the browser to run. The
// result goes back as the tool output. Both UIs use this registry (the
// official one through `onClientTool`, ours through add_client_tool_output).
import { useThemeStore } from "./store";

export type ClientTool = (params: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

export const clientTools: Record<string, ClientTool> = {
  /** Sets the colour theme: {theme: "light" | "dark"}. */
  switch_theme: (params) => {
    const requested = params.theme;
    if (requested !== "light" && requested !== "dark") {
      return { success: false, error: `Unknown theme ${String(requested)}; use "light" or "dark".` };
    }
    useThemeStore.getState().setTheme(requested);
    return { success: true, theme: requested };
  },
};

export async function runClientTool(name: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const tool = clientTools[name];
  if (!tool) return { success: false, error: `This page has no client tool named ${name}.` };
  try {
    return await tool(params);
  } catch (err) {
    return { success: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Client effects are fire-and-forget: same registry, result ignored. */
export function runClientEffect(name: string, data: Record<string, unknown>): void {
  void runClientTool(name, data);
}
