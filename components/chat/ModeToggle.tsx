import type { TaskMode } from "@/db/schema";

const OPTIONS: { mode: TaskMode; label: string; hint: string }[] = [
  { mode: "conversation", label: "Conversation", hint: "Explore and discuss; nothing is pushed" },
  { mode: "task", label: "Task", hint: "An agent does the work on its own branch and pushes it" },
];

/** What happens on send: talk about the repository, or hand the agent a task. */
export function ModeToggle({
  mode,
  onChange,
  disabled,
}: {
  mode: TaskMode;
  onChange: (mode: TaskMode) => void;
  disabled?: boolean;
}) {
  return (
    <fieldset
      className="flex items-center gap-1 rounded-lg bg-zinc-100 p-0.5 text-xs dark:bg-zinc-800"
      disabled={disabled}
    >
      <legend className="sr-only">What happens on send</legend>
      {OPTIONS.map((option) => (
        <label
          key={option.mode}
          title={option.hint}
          className={`cursor-pointer rounded-md px-2.5 py-1 font-medium has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-blue-500 ${
            mode === option.mode
              ? "bg-white text-zinc-900 shadow-sm dark:bg-zinc-950 dark:text-zinc-100"
              : "text-zinc-600 dark:text-zinc-400"
          }`}
        >
          <input
            type="radio"
            name="chat-mode"
            value={option.mode}
            checked={mode === option.mode}
            onChange={() => onChange(option.mode)}
            className="sr-only"
          />
          {option.label}
        </label>
      ))}
    </fieldset>
  );
}
