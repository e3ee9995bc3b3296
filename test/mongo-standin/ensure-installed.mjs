// Installs the MongoDB stand-in (a test-only package with its own lock file)
// before the tests run, unless a real MongoDB is configured or it is already
// installed from the current lock file.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const stamp = join(here, "node_modules", ".installed-from");
const lockHash = createHash("sha256")
  .update(readFileSync(join(here, "package-lock.json")))
  .digest("hex");

if (process.env.MONGODB_URI) {
  console.log("MONGODB_URI is set: the MongoDB suites run against it; the stand-in is not needed.");
} else if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockHash) {
  // Already installed from this lock file.
} else {
  console.log("Installing the MongoDB stand-in for tests (test/mongo-standin)...");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: here,
    stdio: "inherit",
    // Its dependency tree includes mongodb-memory-server, whose postinstall would try to download mongod.
    env: { ...process.env, MONGOMS_DISABLE_POSTINSTALL: "1" },
  });
  writeFileSync(stamp, lockHash);
}
