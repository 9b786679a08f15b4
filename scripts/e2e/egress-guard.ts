/**
 * Proof that nothing leaves the machine: a recording "proxy" on 127.0.0.1 that every
 * non-loopback HTTP(S) request of Terraform, its provider and moto is sent to
 * (HTTP_PROXY/HTTPS_PROXY point here, NO_PROXY lists only loopback). It forwards nothing:
 * it writes down the target (`CONNECT sts.amazonaws.com:443`, `GET http://...`) and answers
 * 403, so such a request fails at once instead of reaching the internet. The e2e fails
 * when the guard has recorded anything.
 */
import * as net from "net";

export interface EgressGuard {
  /** `http://127.0.0.1:<port>`, for HTTP(S)_PROXY. */
  readonly url: string;
  /** Every request line seen, in order (e.g. `CONNECT registry.terraform.io:443`). */
  readonly attempts: string[];
  /** Proxy variables for a child environment: all traffic but loopback goes to the guard. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** The first line of an HTTP proxy request, e.g. `CONNECT example.com:443`. */
export function requestTarget(firstLine: string): string {
  const [method, target] = firstLine.trim().split(/\s+/);
  return method && target ? `${method} ${target}` : firstLine.trim();
}

export function startEgressGuard(): Promise<EgressGuard> {
  const attempts: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = "";
    socket.on("data", (d: Buffer) => {
      if (head.includes("\n")) return;
      head += d.toString("latin1");
      if (!head.includes("\n")) return;
      attempts.push(requestTarget(head.split("\n")[0]));
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      const url = `http://127.0.0.1:${address.port}`;
      resolve({
        url,
        attempts,
        env: () => ({
          HTTP_PROXY: url,
          HTTPS_PROXY: url,
          http_proxy: url,
          https_proxy: url,
          NO_PROXY: "127.0.0.1,localhost",
          no_proxy: "127.0.0.1,localhost",
        }),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
