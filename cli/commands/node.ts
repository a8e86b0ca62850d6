import { runGroup } from "../args";

// One file per subcommand: `token` lets machines join; the others manage the nodes SAM has.
export function run(argv: string[]): Promise<void> {
  return runGroup("node", argv, {
    token: {
      summary: "a one-use token, and the command that joins a machine as a node with it",
      run: async (args) => (await import("./node/token")).run(args),
    },
    list: {
      summary: "the nodes: kind, status, capacity, running tasks",
      run: async (args) => (await import("./node/list")).run(args),
    },
    drain: {
      summary: "stop giving a node new work (its running tasks finish)",
      run: async (args) => (await import("./node/drain")).run(args),
    },
    remove: {
      summary: "remove a node: its credential stops working",
      run: async (args) => (await import("./node/remove")).run(args),
    },
  });
}
