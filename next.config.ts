import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native libSQL bindings must be loaded by Node at run time, not bundled.
  serverExternalPackages: ["@libsql/client", "libsql"],
  // The daemon's HTTP contract is TypeScript source shared by both packages.
  transpilePackages: ["@sam/agent-daemon"],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: true },
  devIndicators: false,
};

export default nextConfig;
