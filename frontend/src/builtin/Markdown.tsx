// Assistant text is Markdown from a model: GitHub flavour, sanitized (no raw
// HTML, no javascript: links), links open in a new tab. Every block takes its
// direction from its own text (dir="auto"), so Arabic or Hebrew reads right to
// left beside English. Code blocks show their language and a copy button.
import { useRef, useState, type ComponentPropsWithoutRef, type ReactNode } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeSanitize from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import { CheckIcon, CopyIcon } from "./icons";

type HastNode = { type: string; tagName?: string; properties?: Record<string, unknown>; children?: HastNode[] };

/** The fence's language ("```python" -> "python"), from the sanitized `language-*` class of its <code>. */
export function codeLanguage(pre: HastNode | undefined): string | null {
  const code = pre?.children?.find((c) => c.type === "element" && c.tagName === "code");
  const classes = code?.properties?.className;
  const list = Array.isArray(classes) ? classes : typeof classes === "string" ? classes.split(" ") : [];
  const lang = list.map(String).find((c) => c.startsWith("language-"));
  return lang ? lang.slice("language-".length) : null;
}

function CodeBlock({ language, children }: { language: string | null; children: ReactNode }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(pre.current?.textContent?.replace(/\n$/, "") ?? "");
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (insecure origin): nothing to tell beyond not confirming.
    }
  };
  return (
    <div className="code-block" data-testid="code-block" data-language={language ?? ""} dir="ltr">
      <div className="code-block-bar">
        <span data-testid="code-language">{language ?? "text"}</span>
        <button type="button" className="code-copy" onClick={() => void copy()} aria-label={copied ? "Copied" : `Copy ${language ?? ""} code`.replace("  ", " ")} data-testid="code-copy">
          {copied ? <CheckIcon /> : <CopyIcon />}
          <span>{copied ? "Copied" : "Copy"}</span>
        </button>
      </div>
      <pre ref={pre}>{children}</pre>
    </div>
  );
}

type Props<T extends keyof React.JSX.IntrinsicElements> = ComponentPropsWithoutRef<T> & { node?: unknown };

// Block elements get dir="auto"; `node` is react-markdown's hast node, not a DOM prop.
function auto<T extends "p" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "td" | "th">(Tag: T) {
  return function Block({ node: _node, ...props }: Props<T>) {
    const Element = Tag as React.ElementType;
    return <Element dir="auto" {...props} />;
  };
}

const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
  pre: ({ node, children }) => <CodeBlock language={codeLanguage(node as HastNode | undefined)}>{children}</CodeBlock>,
  p: auto("p"),
  li: auto("li"),
  h1: auto("h1"),
  h2: auto("h2"),
  h3: auto("h3"),
  h4: auto("h4"),
  h5: auto("h5"),
  h6: auto("h6"),
  blockquote: auto("blockquote"),
  td: auto("td"),
  th: auto("th"),
};

export function Markdown({ text, className = "" }: { text: string; className?: string }) {
  return (
    <div className={`md ${className}`} dir="auto">
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rehypeSanitize]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
