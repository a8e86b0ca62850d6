import Link from "next/link";

/** What a person sees when GitHub says who they are but this SAM does not admit them. */
export function AccessRefused({ login }: { login?: string }) {
  const who = login ? `@${login}` : "your GitHub account";
  return (
    <main className="mx-auto max-w-md px-6 py-24">
      <h1 className="text-3xl font-semibold tracking-tight">You can't sign in here yet</h1>
      <div role="alert" className="mt-6 space-y-3 text-zinc-700 dark:text-zinc-300">
        <p>
          GitHub says you are <strong>{who}</strong>, but this SAM admits only the people its operator allows and the
          people a project owner has invited.
        </p>
        <p>
          Ask a project owner to invite {who} (or your email address) from the project's settings, then sign in again.
        </p>
      </div>
      <Link href="/signin" className="mt-8 inline-block text-sm underline">
        Back to sign-in
      </Link>
    </main>
  );
}
