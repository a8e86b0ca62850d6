import { DrizzleAdapter } from "@auth/drizzle-adapter";
import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import { getDb } from "@/db/client";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { consumeLoginLink } from "@/lib/auth/login-links";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { authSecret } from "@/lib/instance-secrets";
import { getUser } from "@/lib/users";

export const LOGIN_LINK_PROVIDER = "login-link";

// Configured lazily so that `next build` neither reads the environment nor touches the data dir.
export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const config = loadConfig();
  const db = getDb();
  return {
    adapter: DrizzleAdapter(db, {
      usersTable: users,
      accountsTable: accounts,
      sessionsTable: sessions,
      verificationTokensTable: verificationTokens,
    }),
    // One-time links go through Credentials, which Auth.js supports only with JWT sessions.
    session: { strategy: "jwt" },
    secret: authSecret(config.dataDir, config.authSecret),
    trustHost: true,
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      Credentials({
        id: LOGIN_LINK_PROVIDER,
        name: "One-time link",
        credentials: { token: {} },
        async authorize(credentials) {
          const token = typeof credentials?.token === "string" ? credentials.token : "";
          try {
            const user = await getUser(db, await consumeLoginLink(db, token));
            return user ? { id: user.id, name: user.name, email: user.email } : null;
          } catch (err) {
            if (SamError.is(err) && err.code === "unauthenticated") return null;
            throw err;
          }
        },
      }),
      ...(config.github ? [GitHub(config.github)] : []),
    ],
    callbacks: {
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        return session;
      },
    },
  };
});

export function githubSignInEnabled(): boolean {
  return loadConfig().github !== undefined;
}
