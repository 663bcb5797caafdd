/**
 * `outbox-relay completion bash`: a bash completion script for commands, their first words
 * (subcommands, DLQ kinds) and options, generated from the commands' own lists so it cannot drift.
 * Install: `npx outbox-relay completion bash > ~/.local/share/bash-completion/completions/outbox-relay`
 * (or `source <(npx outbox-relay completion bash)` in ~/.bashrc).
 */
import { CliError } from '../errors.js';
import { GLOBAL_OPTION_NAMES, parseCommandArgs } from '../ops/args.js';
import { COMMANDS as COMMAND_NAMES, loadCommand } from '../registry.js';

export const summary = 'completion bash: print a bash completion script';

export const usage = `Usage: outbox-relay completion bash
Prints a bash completion script. Load it in this shell with
  source <(npx outbox-relay completion bash)
or install it for every shell:
  npx outbox-relay completion bash > ~/.local/share/bash-completion/completions/outbox-relay`;

export const completion = { words: ['bash'], options: [] as string[] };

function quoteWords(words: readonly string[]): string {
  return words.filter((w) => /^[A-Za-z0-9._-]+$/.test(w)).join(' ');
}

export async function bashScript(): Promise<string> {
  const cases: string[] = [];
  for (const name of COMMAND_NAMES) {
    const module = name === 'completion' ? { completion } : await loadCommand(name);
    const options = [...module.completion.options, ...GLOBAL_OPTION_NAMES].map((o) => `--${o}`);
    cases.push(
      `    ${name}) words="${quoteWords(module.completion.words)}"; opts="${quoteWords(options)}" ;;`,
    );
  }
  return `# bash completion for outbox-relay (npx outbox-relay completion bash)
_outbox_relay() {
  local cur cmd words opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      --stack|--region|--profile|--output) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${COMMAND_NAMES.join(' ')} help --version --help" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
    help) words="${COMMAND_NAMES.join(' ')}"; opts="" ;;
    *) words=""; opts="" ;;
  esac
  if [[ "\${COMP_WORDS[COMP_CWORD-1]}" == "--output" ]]; then
    COMPREPLY=($(compgen -W "table json jsonl" -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -F _outbox_relay outbox-relay
complete -F _outbox_relay npx-outbox-relay
`;
}

export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals[0] !== 'bash' || positionals.length > 1)
    throw new CliError(
      `only bash is supported${positionals[0] ? `, not "${positionals[0]}"` : ''}; see "outbox-relay completion --help"`,
      2,
    );
  process.stdout.write(await bashScript());
  return 0;
}
