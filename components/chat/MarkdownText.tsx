import type { ComponentProps } from "react";
import ReactMarkdown, { type Components, defaultUrlTransform } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";

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

const components: Components = { a: SafeLink, img: ImageAsLink };

/**
 * Markdown from a message, rendered safely: raw HTML is never turned into elements (there is no
 * raw-HTML plugin), URLs pass react-markdown's allow-list, and code blocks are highlighted.
 */
export function MarkdownText({ text }: { text: string }) {
  return (
    <div className="chat-markdown min-w-0 break-words text-sm leading-relaxed">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: false, ignoreMissing: true }]]}
        components={components}
        urlTransform={defaultUrlTransform}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
