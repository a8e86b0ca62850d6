import { AccessRefused } from "@/components/auth/AccessRefused";
import { GITHUB_LOGIN } from "@/lib/validation";

/** Where a GitHub sign-in that is neither allowed nor invited ends; nothing was stored for it. */
export default async function SignInRefusedPage({ searchParams }: { searchParams: Promise<{ login?: string }> }) {
  const { login } = await searchParams;
  return <AccessRefused login={login && GITHUB_LOGIN.test(login) ? login : undefined} />;
}
