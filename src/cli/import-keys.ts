import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SingleBar } from "cli-progress";
import { type ImportKeySchema, KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { readExport, toImportKey } from "./import-rows.js";

/**
 * `npm run import -- --file export.csv --keyspace <id> [--prefix sk_live]
 * [--url http://127.0.0.1:50051] [--batch 1000] [--from-row N]
 * [--failures path]`, with the root key in KEYWARD_IMPORT_ROOT_KEY: sends
 * the export's rows to ImportKeys over gRPC, a batch at a time, with a
 * progress bar. Rows that fail are written to the failures file (row number,
 * code, message; never a secret). Exits 0 when every row was imported, 2 when
 * some failed, 1 when the import stopped (it says which row to resume from).
 */
const HELP =
  "usage: npm run import -- --file <export.csv|.json> --keyspace <id> [--prefix <p>] [--url <grpc url>] [--batch <n>] [--from-row <n>] [--failures <path>]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      file: { type: "string" },
      keyspace: { type: "string" },
      prefix: { type: "string", default: "" },
      url: { type: "string", default: "http://127.0.0.1:50051" },
      batch: { type: "string", default: "1000" },
      "from-row": { type: "string", default: "1" },
      failures: { type: "string" },
    },
  });
  const rootKey = process.env.KEYWARD_IMPORT_ROOT_KEY;
  const batchSize = Number(values.batch);
  const fromRow = Number(values["from-row"]);
  if (!values.file || !values.keyspace || !rootKey || !(batchSize >= 1 && batchSize <= 1_000) || !(fromRow >= 1)) {
    process.stderr.write(`${HELP}\nKEYWARD_IMPORT_ROOT_KEY must hold a root key with keyspace.<id>.import_key.\n`);
    return 1;
  }
  const failuresPath = values.failures ?? `${values.file}.failures.csv`;
  const rows = readExport(readFileSync(values.file, "utf8")).filter(({ row }) => row >= fromRow);
  const client = createClient(KeyService, createGrpcTransport({ baseUrl: values.url }));
  const headers = { authorization: `Bearer ${rootKey}` };
  const failures: string[] = ["row,code,message"];
  const fail = (row: number, code: string, message: string) =>
    failures.push(`${row},${code},"${message.replaceAll('"', '""')}"`);
  const bar = new SingleBar({
    format: "importing [{bar}] {value}/{total} rows | {failed} failed | {eta_formatted} left",
    etaBuffer: 20,
    stream: process.stderr,
  });
  bar.start(rows.length, 0, { failed: 0 });
  let imported = 0;
  try {
    for (let at = 0; at < rows.length; at += batchSize) {
      const batch: { row: number; item: MessageInitShape<typeof ImportKeySchema> }[] = [];
      for (const { row, fields } of rows.slice(at, at + batchSize)) {
        try {
          batch.push({ row, item: toImportKey(fields, { keyspaceId: values.keyspace, prefix: values.prefix }) });
        } catch (error) {
          fail(row, "INVALID_ARGUMENT", (error as Error).message);
        }
      }
      if (batch.length > 0) {
        const { results } = await client
          .importKeys({ keys: batch.map(({ item }) => item) }, { headers })
          .catch((error: unknown) => {
            const first = rows[at]?.row ?? fromRow;
            bar.stop();
            const reason = ConnectError.from(error);
            process.stderr.write(
              `import stopped: ${Code[reason.code]}: ${reason.rawMessage}\nrows before ${first} are done; resume with --from-row ${first}\n`,
            );
            throw reason;
          });
        results.forEach(({ result }, i) => {
          const { row } = batch[i] as { row: number };
          if (result.case === "created") imported++;
          else if (result.case === "error") fail(row, codeName(result.value.code), result.value.message);
        });
      }
      bar.update(Math.min(at + batchSize, rows.length), { failed: failures.length - 1 });
    }
  } catch {
    writeFileSync(failuresPath, `${failures.join("\n")}\n`);
    return 1;
  }
  bar.stop();
  const failed = failures.length - 1;
  if (failed > 0) writeFileSync(failuresPath, `${failures.join("\n")}\n`);
  process.stdout.write(
    `imported ${imported} of ${rows.length} rows${failed > 0 ? `; ${failed} failed, listed in ${failuresPath}` : ""}\n`,
  );
  return failed > 0 ? 2 : 0;
}

/** A gRPC code as gRPC spells it ("ALREADY_EXISTS"). */
function codeName(code: Code): string {
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

process.exitCode = await main();
