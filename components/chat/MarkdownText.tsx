"use client";

import type { Element, ElementContent } from "hast";
import { type ComponentProps, useEffect, useState } from "react";
import ReactMarkdown, { type Components, defaultUrlTransform, type ExtraProps, type Options } from "react-markdown";
import remarkGfm from "remark-gfm";
import { ScriptBlock } from "./ScriptBlock";
import { ScrollablePre } from "./ScrollablePre";

/**
 * Links open in a new tab without handing the page to it. Only web and mail links stay links:
 * react-markdown already drops `javascript:` URLs; this keeps the rule explicit.
 */
function SafeLink({ href, children }: ComponentProps<"a">) {
  const safe = href && /^(https?:|mailto:|\/|#)/i.test(href) ? href : undefined;
  if (!safe) return <span className="underline decoration-dotted">{children}</span>;
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer nofollow" className="underline">
      {children}
    </a>
  );
}

/** Images are shown as links: an agent's text must not make the browser fetch anything by itself. */
function ImageAsLink({ src, alt }: ComponentProps<"img">) {
  return <SafeLink href={typeof src === "string" ? src : undefined}>{`[image${alt ? `: ${alt}` : ""}]`}</SafeLink>;
}

function textOf(node: ElementContent): string {
  if (node.type === "text") return node.value;
  return node.type === "element" ? node.children.map(textOf).join("") : "";
}

/** The source of a ```sam-script block, if `pre` holds one. */
function scriptSource(pre: Element | undefined): string | undefined {
  const code = pre?.children[0];
  if (code?.type !== "element" || code.tagName !== "code") return undefined;
  const classes = code.properties.className;
  return Array.isArray(classes) && classes.includes("language-sam-script") ? textOf(code) : undefined;
}

/** A code block; a sam-script is folded to its summary. */
function CodeBlock({ node, ...props }: ComponentProps<"pre"> & ExtraProps) {
  const script = scriptSource(node);
  if (script !== undefined) return <ScriptBlock source={script} />;
  return <ScrollablePre label="Code" {...props} />;
}

const components: Components = { a: SafeLink, img: ImageAsLink, pre: CodeBlock };

type RehypePlugins = NonNullable<Options["rehypePlugins"]>;
const NO_PLUGINS: RehypePlugins = [];
// Highlighting (highlight.js and its languages) is loaded the first time a message has a fenced code
// block, not with every chat page; once loaded, every message shares it.
let highlighting: Promise<RehypePlugins> | undefined;
function useHighlighting(text: string): RehypePlugins {
  const needed = text.includes("```") || text.includes("~~~");
  // The first render has no highlighting, on the server as in the browser, so hydration matches.
  const [plugins, setPlugins] = useState(NO_PLUGINS);
  useEffect(() => {
    if (!needed) return;
    highlighting ??= import("rehype-highlight").then((m) => [[m.default, { detect: false, ignoreMissing: true }]]);
    let live = true;
    void highlighting.then((loaded) => {
      if (live) setPlugins(loaded);
    });
    return () => {
      live = false;
    };
  }, [needed]);
  return plugins;
}

/**
 * Markdown from a message, rendered safely: raw HTML is never turned into elements (there is no
 * raw-HTML plugin), URLs pass react-markdown's allow-list, code blocks are highlighted, and
 * sam-script blocks are folded to a summary.
 */
export function MarkdownText({ text }: { text: string }) {
  const rehypePlugins = useHighlighting(text);
  return (
    <div className="chat-markdown min-w-0 break-words text-sm leading-relaxed">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={rehypePlugins}
        components={components}
        urlTransform={defaultUrlTransform}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
