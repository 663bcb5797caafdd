/** The CLI's commands, loaded lazily (a command's SDK clients load only when it runs). */
export const COMMANDS = [
  'status',
  'audit',
  'dlq',
  'webhooks',
  'replay',
  'tail',
  'trigger',
  'connections',
  'send-close',
  'completion',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CommandModule {
  readonly summary: string;
  readonly usage: string;
  /** Subcommands/kinds (first words) and options, for shell completion. */
  readonly completion: { readonly words: readonly string[]; readonly options: readonly string[] };
  run(args: string[]): Promise<number>;
}

export const loaders: Record<CommandName, () => Promise<CommandModule>> = {
  status: () => import('./commands/status.js'),
  audit: () => import('./commands/audit.js'),
  dlq: () => import('./commands/dlq.js'),
  webhooks: () => import('./commands/webhooks.js'),
  replay: () => import('./commands/replay.js'),
  tail: () => import('./commands/tail.js'),
  trigger: () => import('./commands/trigger.js'),
  connections: () => import('./commands/connections.js'),
  'send-close': () => import('./commands/sendClose.js'),
  completion: () => import('./commands/completion.js'),
};

export async function loadCommand(name: CommandName): Promise<CommandModule> {
  return loaders[name]();
}
