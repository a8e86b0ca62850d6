import type { MetadataRoute } from "next";

/** Lets SAM be added to a phone's home screen with its own icon and name. */
export default function manifest(): MetadataRoute.Manifest {
  return {
    name: "SAM",
    short_name: "SAM",
    description: "Brainstorm with coding agents, capture ideas, dispatch tasks.",
    start_url: "/projects",
    display: "standalone",
    background_color: "#ffffff",
    theme_color: "#18181b",
    icons: [
      { src: "/icon.svg", sizes: "any", type: "image/svg+xml" },
      { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
    ],
  };
}
