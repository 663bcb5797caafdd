/**
 * In-process Lambda: loads `topology.functions[name].entry` with a dynamic import (the runtime
 * runs under tsx) and calls `handler(event, context)` with a Lambda-like context, enforcing the
 * function's timeout. The pollers and the WebSocket gateway invoke handlers only through here,
 * so it also counts invocations in flight (for `waitForIdle`) and hosts the fault-injection hook.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { type FunctionDef, topology } from '../../src/contract/topology.js';
import { sourceOrCompiled } from '../sourceFile.js';
import { createLambdaContext } from './context.js';
import { FunctionTimeoutError, HandlerNotFoundError, UnknownFunctionError } from './errors.js';

type Handler = (event: unknown, context: Context) => unknown;

/**
 * Called before each invocation. Throw to make the invocation fail as if the handler had thrown
 * (fault injection). Absent by default: no cost.
 */
export type InvocationInterceptor = (functionName: string, event: unknown) => void | Promise<void>;

export interface InvokerOptions {
  /** Repository root the topology's `entry` paths are relative to. */
  readonly rootDir: string;
  readonly functions?: Readonly<Record<string, FunctionDef>>;
  readonly interceptor?: InvocationInterceptor;
  /** Called when an invocation fails (thrown error or timeout), for logging. */
  readonly onError?: (functionName: string, error: unknown) => void;
}

export interface Invoker {
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** Invocations started and not yet settled. */
  readonly inFlight: number;
  /** Replace (or remove with undefined) the fault-injection hook at run time. */
  setInterceptor(interceptor: InvocationInterceptor | undefined): void;
  /** Loads every handler module now, so the first event does not pay for the import. */
  preload(names?: readonly string[]): Promise<void>;
}

export function createInvoker(options: InvokerOptions): Invoker {
  const functions: Readonly<Record<string, FunctionDef>> = options.functions ?? topology.functions;
  const handlers = new Map<string, Promise<Handler>>();
  let interceptor = options.interceptor;
  let inFlight = 0;

  const load = (name: string, def: FunctionDef): Promise<Handler> => {
    let handler = handlers.get(name);
    if (!handler) {
      handler = import(pathToFileURL(sourceOrCompiled(resolve(options.rootDir, def.entry))).href).then(
        (module: unknown) => {
          const exported =
            typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
          if (typeof exported !== 'function') throw new HandlerNotFoundError(name, def.entry);
          return (event: unknown, context: Context) => Reflect.apply(exported, undefined, [event, context]);
        },
      );
      // A failed import is retried on the next invocation (the file may be being written).
      handler.catch(() => handlers.delete(name));
      handlers.set(name, handler);
    }
    return handler;
  };

  const invoke = async (functionName: string, event: unknown): Promise<unknown> => {
    const def = functions[functionName];
    if (!def) throw new UnknownFunctionError(functionName);
    inFlight += 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await load(functionName, def);
      if (interceptor) await interceptor(functionName, event);
      const context = createLambdaContext(functionName, def.timeoutSeconds, def.memoryMb);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FunctionTimeoutError(functionName, def.timeoutSeconds)),
          def.timeoutSeconds * 1000,
        );
      });
      return await Promise.race([Promise.resolve(handler(event, context)), timeout]);
    } catch (error) {
      options.onError?.(functionName, error);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      inFlight -= 1;
    }
  };

  return {
    invoke,
    get inFlight() {
      return inFlight;
    },
    setInterceptor(next) {
      interceptor = next;
    },
    async preload(names = Object.keys(functions)) {
      await Promise.allSettled(
        names.flatMap((name) => {
          const def = functions[name];
          return def ? [load(name, def)] : [];
        }),
      );
    },
  };
}
