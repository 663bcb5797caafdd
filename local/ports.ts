/** Ports for the local runtime's servers, always handed out by the OS (never a fixed default). */
import type { Server } from 'node:http';
import { createServer } from 'node:net';

/** Asks the OS for a free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('The OS did not hand out a TCP port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True when nothing listens on the port yet (used to reuse a previous run's port when it is free). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Starts an HTTP server on 127.0.0.1 (port 0 = from the OS) and returns the port it got. */
export function listenOn(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('Server has no TCP address'));
      else resolve(address.port);
    });
  });
}
