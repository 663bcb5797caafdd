/**
 * fauxqs on 127.0.0.1 only. Its `startFauxqs()` listens on every interface (0.0.0.0 is written
 * into it), which would let anyone on a shared network read and write our queues. Its public
 * `buildApp()` takes the stores and leaves listening to us, so we build the app around stores
 * of our own and listen on the loopback address. The store classes are not in the package's
 * export map; they are loaded from the package's own directory, and a missing one fails loudly.
 */
import { buildApp } from 'fauxqs';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './constants.js';

type Stores = NonNullable<NonNullable<Parameters<typeof buildApp>[0]>['stores']>;
type SqsStore = Stores['sqsStore'];

export class FauxqsLayoutError extends Error {
  override readonly name = 'FauxqsLayoutError';
}

export interface LoopbackFauxqs {
  readonly port: number;
  createQueue(
    name: string,
    options: { attributes?: Record<string, string> },
  ): { queueUrl: string; queueArn: string; queueName: string };
  inspectQueue(name: string): ReturnType<SqsStore['inspectQueue']>;
  stop(): Promise<void>;
}

async function storeClass(dist: URL, file: string, exportName: string): Promise<new () => unknown> {
  const module: Record<string, unknown> = await import(new URL(file, dist).href);
  const value = module[exportName];
  if (typeof value !== 'function') {
    throw new FauxqsLayoutError(
      `fauxqs no longer has ${exportName} in dist/${file}; the offline runtime's loopback-only SQS needs updating`,
    );
  }
  // A class constructor: checked to be a function above, constructed without arguments as fauxqs does.
  return value as new () => unknown;
}

async function loadStores(): Promise<Stores> {
  const dist = new URL('.', import.meta.resolve('fauxqs'));
  const [Sqs, Sns, S3] = await Promise.all([
    storeClass(dist, 'sqs/sqsStore.js', 'SqsStore'),
    storeClass(dist, 'sns/snsStore.js', 'SnsStore'),
    storeClass(dist, 's3/s3Store.js', 'S3Store'),
  ]);
  // The same classes buildApp itself would construct; typed by buildApp's own option type.
  return { sqsStore: new Sqs(), snsStore: new Sns(), s3Store: new S3() } as Stores;
}

/** Starts fauxqs listening on 127.0.0.1 (port 0 = from the OS). */
export async function startLoopbackFauxqs(options: { port?: number } = {}): Promise<LoopbackFauxqs> {
  const stores = await loadStores();
  const app = buildApp({ logger: false, stores });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const port = Number(new URL(address).port);
  const host = `127.0.0.1:${port}`;
  return {
    port,
    createQueue(name, { attributes }) {
      const queueUrl = stores.sqsStore.buildQueueUrl(name, String(port), host, LOCAL_REGION);
      const queueArn = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
      stores.sqsStore.createQueue(name, queueUrl, queueArn, attributes);
      return { queueUrl, queueArn, queueName: name };
    },
    inspectQueue: (name) => stores.sqsStore.inspectQueue(name),
    stop: () => app.close(),
  };
}
