import { useSyncExternalStore } from "react";

/** Whether a CSS media query matches now, following changes (e.g. "(pointer: coarse)"). */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const list = matchMedia(query);
      list.addEventListener("change", onChange);
      return () => list.removeEventListener("change", onChange);
    },
    () => matchMedia(query).matches,
    () => false,
  );
}

/** A touch screen as the main pointer: no keyboard hints, Enter makes a new line. */
export const useTouchScreen = () => useMediaQuery("(pointer: coarse)");
