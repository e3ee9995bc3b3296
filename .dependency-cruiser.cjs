/**
 * The architecture as rules (`npm run lint` checks them): no import cycle
 * between folders or modules; the domain free of I/O, generated code and
 * the layers around it; ports and adapters kept apart from what uses them.
 */
const DOMAIN = "^src/(keys|keyspaces|auth|ratelimit|audit)/";
const OUTER =
  "^src/(ports|adapters|cache|credits|usage|verification|services|envoy|chain|transport|observability|composition|cli)/|^src/main";

module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Folders depend on each other in one direction only.",
      severity: "error",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-module-cycles",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "domain-is-pure",
      comment: "keys, keyspaces, auth, ratelimit and audit: no generated code, no stores, no layer around them.",
      severity: "error",
      from: { path: DOMAIN },
      to: { path: [OUTER, "^gen/", "mongodb", "redis", "@grpc", "@connectrpc", "@bufbuild"] },
    },
    {
      name: "verification-is-a-use-case",
      comment: "The use case speaks the domain's types and the ports': no generated code, no adapters.",
      severity: "error",
      from: { path: "^src/verification/" },
      to: {
        path: ["^gen/", "^src/(adapters|services|envoy|chain|transport|composition)/", "@bufbuild", "@connectrpc"],
      },
    },
    {
      name: "ports-are-interfaces",
      comment: "Ports name what the application needs; they know no adapter and no caller.",
      severity: "error",
      from: { path: "^src/ports/" },
      to: { path: [OUTER.replace("ports|", ""), "^gen/"] },
    },
    {
      name: "adapters-serve-ports",
      comment: "Adapters translate for the ports; they know nothing of services, the chain or transports.",
      severity: "error",
      from: { path: "^src/adapters/" },
      to: { path: ["^src/(services|envoy|chain|transport|composition|verification)/", "^gen/"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require("node:path").join(__dirname, "tsconfig.json") },
  },
};
