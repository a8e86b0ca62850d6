import { DrizzleAdapter } from "@auth/drizzle-adapter";
import NextAuth, { type Account } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import { z } from "zod";
import { getDb } from "@/db/client";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { type Admission, admitGitHubUser } from "@/lib/auth/github-admission";
import { githubApiUrl } from "@/lib/auth/github-api";
import { consumeLoginLink } from "@/lib/auth/login-links";
import { completeSignIn } from "@/lib/auth/sign-in";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";
import { authSecret } from "@/lib/instance-secrets";
import { getUser } from "@/lib/users";
import { GITHUB_LOGIN } from "@/lib/validation";

export const LOGIN_LINK_PROVIDER = "login-link";

// What GitHub's /user answer must hold for SAM to judge the person.
const githubProfileSchema = z.object({ login: z.string().regex(GITHUB_LOGIN) });

// The admission decided for a GitHub sign-in, handed from the signIn callback to the jwt callback of
// the same request (Auth.js passes both the same `account` object).
const admissions = new WeakMap<Account, Extract<Admission, { admitted: true }> & { login: string }>();

// Configured lazily so that `next build` neither reads the environment nor touches the data dir.
export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const config = loadConfig();
  const db = getDb();
  const github = config.github;
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
    // A first sign-in lands in the project the person was invited to.
    pages: { signIn: "/signin", error: "/signin", newUser: "/welcome" },
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
      ...(github
        ? [
            GitHub({
              clientId: github.clientId,
              clientSecret: github.clientSecret,
              ...(github.enterpriseUrl ? { enterprise: { baseUrl: github.enterpriseUrl } } : {}),
              // GitHub documents the client's credentials as parameters of the token request.
              client: { token_endpoint_auth_method: "client_secret_post" },
              // read:org only where organizations admit people: listing them needs it.
              authorization: {
                params: { scope: `read:user user:email${github.allowedOrgs.length > 0 ? " read:org" : ""}` },
              },
            }),
          ]
        : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== "github" || !github) return true;
        const { login } = githubProfileSchema.parse(profile);
        const admission = await admitGitHubUser(
          db,
          {
            apiUrl: githubApiUrl(github.enterpriseUrl),
            allowedUsers: github.allowedUsers,
            allowedOrgs: github.allowedOrgs,
          },
          { login, accountId: account.providerAccountId, accessToken: account.access_token ?? "" },
        );
        // Refused before any account is made: nothing is stored for a stranger.
        if (!admission.admitted) return `/signin/refused?${new URLSearchParams({ login })}`;
        admissions.set(account, { ...admission, login });
        return true;
      },
      async jwt({ token, user, account, trigger }) {
        if ((trigger === "signIn" || trigger === "signUp") && user?.id && account) {
          const admission = admissions.get(account);
          if (admission) {
            await completeSignIn(db, user.id, { githubLogin: admission.login, identities: admission.identities });
          } else if (account.provider === LOGIN_LINK_PROVIDER && user.email) {
            // A one-time link's user was made on the server host, so their email is trusted.
            await completeSignIn(db, user.id, { identities: [{ kind: "email", value: user.email.toLowerCase() }] });
          }
        }
        return token;
      },
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
