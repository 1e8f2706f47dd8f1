import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { readPageConfig } from "./app/config";
import { useThreadStore } from "./app/store";
import "./index.css";

const config = readPageConfig();
// A dead or foreign ?thread= link: drop it before either UI tries to open it.
if (config.missingThread) useThreadStore.getState().setThreadId(null, "replace");

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App config={config} />
    </StrictMode>,
  );
}
