import { execFileSync } from "node:child_process";

/**
 * Builds dist/ once before any test runs, for the suites that start Keyward as
 * a process. `tsc -b` writes nothing when dist/ is current, so the `npm start`
 * those suites run cannot rewrite files under a running process.
 */
export default function buildOnce(): void {
  execFileSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
}
