/**
 * SDK clients created on first use. Loading the `@aws-sdk/*` clients at module load was ~90 % of
 * every function's init, and some functions never send through some of them (the authorizer on
 * the JWT path, the fan-out's SQS client unless it splits a wide fan-out), so deployed modules
 * never import them statically: call sites build a command shim (`new PutCommand(input)`, a class
 * that only holds `input`) and send it through a `Sender`, which imports the package once (a
 * cached promise), creates the real client once, and sends the real command built from the shim.
 * A real client (a test's, a mocked one, a user's) is wrapped the same way (`SdkService.wrap`),
 * so it receives real command instances.
 */

/** A command to send through a `Sender`: the real command class's name and its input. */
export interface CommandShim<Input = unknown, Output = unknown> {
  readonly commandName: string;
  readonly input: Input;
  /** Type only (never set): what `send` resolves to. */
  readonly '~output'?: Output;
}

/** What `send` resolves to for a shim. */
export type OutputOf<C> = C extends CommandShim<unknown, infer Output> ? Output : never;

/** The class of a shim: `new PutCommand(input)` reads as it does with the SDK. */
export interface CommandShimClass<Input, Output> {
  new (input: Input): CommandShim<Input, Output>;
  readonly commandName: string;
}

/** A shim class named after the real command class it stands for. */
export function commandShim<Input, Output>(commandName: string): CommandShimClass<Input, Output> {
  return class {
    static readonly commandName = commandName;
    readonly commandName = commandName;
    constructor(readonly input: Input) {}
  };
}

/** Marks senders, so ports that also take a real client can tell the two apart. */
export const SENDER: unique symbol = Symbol('outbox-relay.sender');

/** Sends command shims of one service (`Shim`) through a real client made or given on first use. */
export interface Sender<Shim extends CommandShim = CommandShim> {
  readonly [SENDER]: true;
  send<C extends Shim>(command: C): Promise<OutputOf<C>>;
}

/** What a sender needs of a real SDK client (method syntax: any client's `send` fits). */
export interface SdkClient {
  send(command: object): Promise<unknown>;
}

type RealCommandClass = new (input: unknown) => object;

/** How to load one service's SDK packages and find its real command classes. */
export interface ServiceLoader<Module> {
  /** The package(s) named in a load failure, e.g. `@aws-sdk/client-sqs`. */
  readonly packages: string;
  /** `import()` of the package(s); called again after a failure. */
  readonly load: () => Promise<Module>;
  /** The namespace exporting the real command classes under the shims' names. */
  readonly commands: (module: Module) => object;
}

/** The SDK package could not be imported (not installed where the code runs, or broken). */
export class SdkLoadError extends Error {
  override readonly name = 'SdkLoadError';
  constructor(
    readonly packages: string,
    options: ErrorOptions,
  ) {
    super(
      `Could not load ${packages}: the Lambda runtime provides it; elsewhere install it beside outbox-relay`,
      options,
    );
  }
}

/** A shim whose name the loaded package does not export (a shim table out of step with the SDK). */
export class UnknownCommandError extends Error {
  override readonly name = 'UnknownCommandError';
  constructor(
    readonly packages: string,
    readonly commandName: string,
  ) {
    super(`${packages} exports no command class named ${commandName}`);
  }
}

/**
 * A sender whose client is made by `clientOf` after the first send has loaded the packages.
 * Concurrent first sends share one load; a failed load rejects those sends with `SdkLoadError`
 * (a failed client creation with its own error) and the next send tries again.
 */
export function lazySender<Module, Shim extends CommandShim>(
  service: ServiceLoader<Module>,
  clientOf: (module: Module) => SdkClient,
): Sender<Shim> {
  let ready: Promise<{ commands: object; client: SdkClient }> | undefined;
  const load = () => {
    ready ??= service
      .load()
      .then(
        (module) => ({ commands: service.commands(module), client: clientOf(module) }),
        (error: unknown) => {
          throw new SdkLoadError(service.packages, { cause: error });
        },
      )
      .catch((error: unknown) => {
        ready = undefined; // not cached: the next send tries again
        throw error;
      });
    return ready;
  };
  return {
    [SENDER]: true,
    async send<C extends Shim>(command: C): Promise<OutputOf<C>> {
      const { commands, client } = await load();
      const Real: unknown = Reflect.get(commands, command.commandName);
      if (typeof Real !== 'function') throw new UnknownCommandError(service.packages, command.commandName);
      // The shim table is typed against the package's own Input/Output types, so the result is that output.
      return (await client.send(new (Real as RealCommandClass)(command.input))) as OutputOf<C>;
    },
  };
}

/** One service's senders: lazily created clients, and existing clients wrapped (once each). */
export interface SdkService<Module, Shim extends CommandShim, Client extends SdkClient> {
  /** A sender whose client `clientOf` makes after the first send loaded the packages. */
  lazy(clientOf: (module: Module) => SdkClient): Sender<Shim>;
  /** A sender over an existing client (real or mocked: it receives real command instances); a sender passes through. */
  wrap(client: Client | Sender<Shim>): Sender<Shim>;
}

export function sdkService<Module, Shim extends CommandShim, Client extends SdkClient>(
  service: ServiceLoader<Module>,
): SdkService<Module, Shim, Client> {
  const wrapped = new WeakMap<Client, Sender<Shim>>();
  return {
    lazy: (clientOf) => lazySender<Module, Shim>(service, clientOf),
    wrap(client) {
      if (isSender(client)) return client;
      let sender = wrapped.get(client);
      if (!sender) {
        sender = lazySender<Module, Shim>(service, () => client);
        wrapped.set(client, sender);
      }
      return sender;
    },
  };
}

/** `sdkService` for a package that exports its client and command classes itself (all but DynamoDB's). */
export function sdkPackage<Module extends object, Shim extends CommandShim, Client extends SdkClient>(
  packageName: string,
  load: () => Promise<Module>,
): SdkService<Module, Shim, Client> {
  return sdkService({ packages: packageName, load, commands: (module) => module });
}

export function isSender(value: unknown): value is Sender {
  return typeof value === 'object' && value !== null && SENDER in value;
}
