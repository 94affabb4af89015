import { createServer, connect, type AddressInfo, type Socket } from "node:net";

/**
 * A TCP proxy in front of Postgres that can freeze a client at the worst moment: once a client has
 * sent a statement containing `armed` text, the server's next ReadyForQuery with status idle (the
 * statement's transaction has committed) is held back, and `onCommitted` runs — the client never
 * learns that its work committed (the test kills it there).
 */
export interface PgProxy {
  url: string;
  arm(text: string, onCommitted: () => void): void;
  close(): Promise<void>;
}

export async function startPgProxy(target: string): Promise<PgProxy> {
  const upstream = new URL(target);
  let armed: { text: string; onCommitted: () => void } | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const pg = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(pg);
    let sawStatement = false;
    let frozen = false;
    let pendingServer = Buffer.alloc(0);
    client.on("data", (chunk) => {
      if (armed && chunk.includes(armed.text)) sawStatement = true;
      if (!frozen) pg.write(chunk);
    });
    pg.on("data", (chunk) => {
      if (frozen) return;
      if (!sawStatement || !armed) return void client.write(chunk);
      // Walk the server's messages (type byte, int32 length): forward up to a ReadyForQuery 'I'.
      pendingServer = Buffer.concat([pendingServer, chunk]);
      let offset = 0;
      while (pendingServer.length - offset >= 5) {
        const type = String.fromCharCode(pendingServer[offset]);
        const length = pendingServer.readInt32BE(offset + 1);
        if (pendingServer.length - offset < 1 + length) break;
        if (type === "Z" && pendingServer[offset + 5] === "I".charCodeAt(0)) {
          client.write(pendingServer.subarray(0, offset));
          frozen = true;
          const { onCommitted } = armed;
          armed = undefined;
          onCommitted();
          return;
        }
        offset += 1 + length;
      }
      client.write(pendingServer.subarray(0, offset));
      pendingServer = pendingServer.subarray(offset);
    });
    const end = () => {
      client.destroy();
      pg.destroy();
      sockets.delete(client);
      sockets.delete(pg);
    };
    client.on("error", end).on("close", end);
    pg.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    arm(text, onCommitted) {
      armed = { text, onCommitted };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
