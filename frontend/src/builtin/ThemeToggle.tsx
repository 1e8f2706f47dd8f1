import { useThemeStore } from "../app/store";
import { MoonIcon, SunIcon } from "./icons";

export function ThemeToggle() {
  const theme = useThemeStore((s) => s.theme);
  const toggle = useThemeStore((s) => s.toggleTheme);
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" onClick={toggle} className="icon-btn" aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`} data-testid="theme-toggle" data-theme={theme}>
      {theme === "dark" ? <SunIcon /> : <MoonIcon />}
    </button>
  );
}
