// Start-screen suggestions, shared by both UIs.
export const GREETING = "What can I help you with?";

export const START_PROMPTS: { label: string; prompt: string; icon: "lightbulb" | "write" | "sparkle" }[] = [
  { label: "Explain a concept", prompt: "Explain how server-sent events work, briefly.", icon: "lightbulb" },
  { label: "Draft a note", prompt: "Draft a short, friendly note to my team about Friday's release.", icon: "write" },
  { label: "Switch to dark mode", prompt: "Switch the theme to dark.", icon: "sparkle" },
];
