/** A local HTTP receiver on 127.0.0.1 (port from the OS) for webhook tests; records every request. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export type Responder = (
  request: ReceivedRequest,
  index: number,
) =>
  | {
      status: number;
      headers?: Record<string, string>;
      body?: string /** answer this much later */;
      delayMs?: number;
    }
  | 'hang';

export interface TestReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  respond: Responder;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => ({ status: 204 })): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver: TestReceiver = {
    url: '',
    requests,
    respond,
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(request);
      const answer = receiver.respond(request, requests.length - 1);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const send = () => {
        hanging.delete(res);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      };
      if (answer.delayMs === undefined) send();
      else {
        hanging.add(res);
        setTimeout(send, answer.delayMs);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}/hook` });
}
