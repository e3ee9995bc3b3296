// Test-only MongoDB stand-in. No real mongod can be installed on the project's
// machines (only the npm registry and Debian apt are reachable, and
// mongodb-memory-server's binary download fails), so tests talk to CongoServer
// from @push.rocks/smartmongo: an in-process server that speaks the MongoDB wire
// protocol to the official driver. It lives in this separate package so it never
// enters the service's dependencies. It does NOT enforce unique indexes (other
// than _id), partial/TTL indexes, validators, transactions or change streams:
// tests must not rely on those.
import { CongoServer } from "@push.rocks/smartmongo/dist_ts/congodb/index.js";

/** Start an in-memory stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startMongoStandin() {
  const server = new CongoServer({ host: "127.0.0.1", port: 0, storage: "memory" });
  await server.start();
  // CongoServer's own `port` getter echoes the option (0); the bound port is only
  // known to its underlying net.Server (a TypeScript-private field, public at runtime).
  const { port } = server.server.address();
  let stopped;
  return {
    // The stand-in cannot stream heartbeats (the driver's "auto" monitoring uses an exhaust
    // cursor, and the stand-in ends it with "Server ended moreToCome unexpectedly", which
    // clears the pool and fails whatever is in flight): poll instead.
    uri: `mongodb://127.0.0.1:${port}/?serverMonitoringMode=poll`,
    stop: () => (stopped ??= server.stop()),
  };
}
