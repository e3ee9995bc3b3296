/** The warning dev mode prints at start-up, boxed so that nobody mistakes it for a log line. */
export function devModeBanner(lines: readonly string[]): string {
  const body = [
    "KEYWARD IS RUNNING IN DEV MODE",
    "",
    "Keys are kept in memory only. NOTHING IS PERSISTED:",
    "every key is lost when this process stops.",
    "Set MONGODB_URI to keep keys in MongoDB.",
    ...(lines.length > 0 ? ["", ...lines] : []),
  ];
  const width = Math.max(...body.map((line) => line.length));
  const edge = "#".repeat(width + 6);
  return [edge, ...body.map((line) => `## ${line.padEnd(width)} ##`), edge].join("\n");
}
