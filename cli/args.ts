import { type ParseArgsConfig, parseArgs } from "node:util";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** The parsed values of single-valued options without defaults, the only kind SAM's commands declare. */
type OptionValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K]["type"] extends "string" ? string : boolean;
};

/** A command line that cannot be run as given; `sam` exits with status 2 and points at the help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options every command accepts. */
const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
} as const satisfies OptionsConfig;

/** node:util's messages are long and advise about `--`; this keeps the part that names the problem. */
function usageMessage(err: unknown): string | undefined {
  if (!(err instanceof Error) || !("code" in err) || typeof err.code !== "string") return undefined;
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted ?? err.message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return err.message.replace(/^Option /, "option ").split(". ")[0];
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${quoted ?? err.message}`;
    default:
      return undefined;
  }
}

/**
 * Parses one command's arguments strictly: unknown options and missing option values are usage
 * errors. `positionals` names the required positional arguments, in order; no others are accepted.
 */
export function parseCommand<const O extends OptionsConfig, const P extends readonly string[]>(
  command: string,
  argv: string[],
  spec: { options: O; positionals: P },
) {
  let parsed: { values: object; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...spec.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = usageMessage(err);
    if (message) throw new UsageError(message, command);
    throw err;
  }
  // strict parsing guarantees every value has the type its option declares.
  const values = parsed.values as OptionValues<O & typeof COMMON_OPTIONS>;
  const positionals = parsed.positionals;
  const args = {} as Record<P[number], string>;
  if (!values.help) {
    spec.positionals.forEach((name: P[number], i) => {
      const value = positionals[i];
      if (value === undefined || value === "") throw new UsageError(`missing argument <${name}>`, command);
      args[name] = value;
    });
    const extra = positionals[spec.positionals.length];
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, command);
  }
  return { values, args, help: values.help === true, json: values.json === true };
}

export interface Subcommand {
  summary: string;
  run: (argv: string[]) => Promise<void>;
}

/** Runs `sam <group> <subcommand> ...`, or prints the group's help. */
export async function runGroup(group: string, argv: string[], subcommands: Record<string, Subcommand>) {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h") {
    const width = Math.max(...Object.keys(subcommands).map((n) => n.length));
    const lines = Object.entries(subcommands).map(([n, s]) => `  ${n.padEnd(width)}  ${s.summary}`);
    process.stdout.write(
      `Usage: sam ${group} <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n` +
        `Run \`sam ${group} <command> --help\` for a command's options.\n`,
    );
    return;
  }
  if (name === undefined) throw new UsageError(`missing command after "sam ${group}"`, group);
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!sub) throw new UsageError(`unknown command "sam ${group} ${name}"`, group);
  await sub.run(rest);
}
