/**
 * A port the OS handed out can be taken by another process before DynamoDB Local's JVM binds it
 * (two runs starting at once). The start tries a new port then, and never loses its JVM.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';

const sockets = new Set<Socket>();
const taken: Server = createServer((socket) => {
  // The start's readiness probe connects here too: held open, closed with the server.
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
const takenPort = await new Promise<number>((resolve) => {
  // All interfaces, as the JVM binds them.
  taken.listen(0, () => {
    const address = taken.address();
    resolve(typeof address === 'object' && address !== null ? address.port : 0);
  });
});

vi.mock('../../local/ports.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../local/ports.js')>();
  let calls = 0;
  return {
    ...actual,
    // The first port handed out is already taken by the time the JVM binds it.
    freePort: async () => (++calls === 1 ? takenPort : actual.freePort()),
  };
});

const { DynamoLocalStartError, startDynamoLocal } = await import('../../local/dynamo.js');

afterAll(
  () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      taken.close(() => resolve());
    }),
);

describe('startDynamoLocal', () => {
  it('starts on a new port when the one the OS handed out was taken first', async () => {
    const dynamo = await startDynamoLocal();
    try {
      expect(dynamo.port).not.toBe(takenPort);
      const answer = await fetch(dynamo.endpoint, { method: 'POST' });
      expect(answer.status).toBeGreaterThanOrEqual(400);
    } finally {
      await dynamo.stop();
    }
  }, 120_000);

  it('never swaps a port the caller chose for another one', async () => {
    await expect(startDynamoLocal({ port: takenPort })).rejects.toBeInstanceOf(DynamoLocalStartError);
  }, 120_000);
});
