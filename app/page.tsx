import { redirect } from "next/navigation";
import { requireUser } from "./current-user";

export default async function Home() {
  await requireUser();
  redirect("/projects");
}
