import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fromJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { IstioOperator } from "@kubernetes-models/istio/install.istio.io/v1alpha1";
import { AuthorizationPolicy, type IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1";
import type { ValidateFunction } from "ajv";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { type INetworkPolicy, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { type IPodDisruptionBudget, PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ConfigMap,
  type IConfigMap,
  type IContainer,
  type IPodSpec,
  type ISecret,
  type IService,
  Namespace,
  Secret,
  Service,
} from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { loadConfig, SETTING_NAMES } from "../../src/composition/config.js";
import { IDENTITY_HEADERS } from "../../src/envoy/ext-authz-service.js";
import { readDescriptorConfig } from "../../src/ratelimit/descriptor-config.js";
import { type DescriptorEntry, matchDescriptor } from "../../src/ratelimit/descriptor-rules.js";
import { LIVENESS_SERVICE } from "../../src/transport/grpc/grpc-listener.js";
import { envoyRegistry } from "./envoy-schema.js";
import { strictValidators } from "./kubernetes-schema.js";

const root = join(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Keyward's defaults (ports, shutdown timeout, ext_authz key headers), from its own configuration code. */
const defaults = loadConfig({});

type Doc = Record<string, unknown>;

/** Every non-empty document of a (multi-document) YAML file; a syntax error fails the test. */
function documents(text: string, version: "1.1" | "1.2" = "1.2"): Doc[] {
  return Array.from(parseAllDocuments(text, { version }))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.map((error) => error.message).join("\n"));
      return document.toJS() as unknown;
    })
    .filter((value): value is Doc => value !== null && value !== undefined)
    .map((value) => {
      if (typeof value !== "object" || Array.isArray(value)) throw new Error("a document is not a mapping");
      return value as Doc;
    });
}

/** A value inside parsed YAML, or undefined. */
function get(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
}

/** Envoy's schema, compiled on first use (once) for the Envoy and Istio suites. */
let envoyCache: Registry | undefined;
function envoy(): Registry {
  envoyCache ??= envoyRegistry();
  return envoyCache;
}

// ---- Kubernetes ----------------------------------------------------------------------------------

type ModelClass = new (data: never) => { validate(): void };

/** The kinds deploy/ uses, each with its schema; a kind missing here fails the test. */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "security.istio.io/v1/AuthorizationPolicy": AuthorizationPolicy,
  "install.istio.io/v1alpha1/IstioOperator": IstioOperator,
};

/** Istio's kinds: kubernetes-models' check only (see StrictKinds in kubernetes-schema.ts). */
const NOT_STRICT = new Set(["security.istio.io/v1/AuthorizationPolicy", "install.istio.io/v1alpha1/IstioOperator"]);

/** The strict schemas of the built-in kinds, made on first use (once). */
let strictCache: Map<string, ValidateFunction> | undefined;

/**
 * Throws, naming the field, unless `doc` is valid against the schema of its apiVersion and kind.
 * Built-in kinds are also checked strictly (unknown fields refused, as kubectl does), since
 * kubernetes-models lets them through; Istio's kinds have kubernetes-models' check only.
 */
function validate(doc: Doc): void {
  const kind = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const Model = MODELS[kind];
  if (!Model) throw new Error(`no schema known for ${kind}`);
  new Model(structuredClone(doc) as never).validate();

  strictCache ??= strictValidators();
  const strict = strictCache.get(kind);
  if (!strict) {
    if (NOT_STRICT.has(kind)) return;
    throw new Error(`no strict schema for ${kind}: add it to StrictKinds`);
  }
  if (!strict(doc)) {
    const errors = (strict.errors ?? []).map(
      ({ instancePath, message, params }) =>
        `${instancePath || "/"} ${message}${"additionalProperty" in params ? ` (${params.additionalProperty})` : ""}`,
    );
    throw new Error(`${kind} ${String(get(doc, "metadata", "name"))}:\n${errors.join("\n")}`);
  }
}

const kubernetesFiles = readdirSync(join(root, "deploy/kubernetes"))
  .filter((name) => name.endsWith(".yaml"))
  .map((name) => `deploy/kubernetes/${name}`);
const istioFiles = ["deploy/istio/authorization-policy.yaml", "deploy/istio/mesh-config.yaml"];

function byKind<T>(docs: Doc[], kind: string): T[] {
  return docs.filter((doc) => doc.kind === kind) as T[];
}

function one<T>(items: T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
}

function deployment(docs: Doc[], name: string): IDeployment {
  const found = byKind<IDeployment>(docs, "Deployment").find((doc) => doc.metadata?.name === name);
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

function podSpec(deploy: IDeployment): IPodSpec {
  const spec = deploy.spec?.template.spec;
  if (!spec) throw new Error(`Deployment ${deploy.metadata?.name} has no pod spec`);
  return spec;
}

function podLabels(deploy: IDeployment): Record<string, string> {
  return deploy.spec?.template.metadata?.labels ?? {};
}

/** Whether matchLabels select a pod with these labels. */
function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return matchLabels !== undefined && Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

function allContainers(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function keywardContainer(spec: IPodSpec): IContainer {
  return one(
    allContainers(spec).filter((container) => container.name === "keyward"),
    "one container named keyward",
  );
}

function containerPort(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((entry) => entry.name === port)?.containerPort;
}

function env(container: IContainer, name: string) {
  return container.env?.find((entry) => entry.name === name);
}

/** The checks every Keyward container gets, wherever it runs. */
function expectHardenedKeyward(deploy: IDeployment, docs: Doc[]): void {
  const spec = podSpec(deploy);
  const keyward = keywardContainer(spec);
  expect(keyward.image).toMatch(/(^|\/)keyward:\d+\.\d+\.\d+$/);
  expect(containerPort(keyward, "grpc")).toBe(defaults.grpcPort);
  expect(containerPort(keyward, "http")).toBe(defaults.httpPort);

  // All three probes are gRPC health checks: readiness asks for the whole server (service ""),
  // liveness and start-up for the service that does not depend on the stores.
  expect(keyward.readinessProbe?.grpc).toEqual({ port: defaults.grpcPort });
  expect(keyward.livenessProbe?.grpc).toEqual({ port: defaults.grpcPort, service: LIVENESS_SERVICE });
  expect(keyward.startupProbe?.grpc).toEqual({ port: defaults.grpcPort, service: LIVENESS_SERVICE });

  for (const resource of ["cpu", "memory"]) {
    expect(keyward.resources?.requests?.[resource], `requests.${resource}`).toBeDefined();
    expect(keyward.resources?.limits?.[resource], `limits.${resource}`).toBeDefined();
  }

  const security = keyward.securityContext;
  expect(security?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot).toBe(true);
  expect(security?.runAsUser).toBe(dockerfileUser());
  expect(security?.readOnlyRootFilesystem).toBe(true);
  expect(security?.allowPrivilegeEscalation).toBe(false);
  expect(security?.capabilities?.drop).toContain("ALL");

  // The three secrets come from a Secret of the same file that has them.
  for (const name of ["KEYWARD_ROOT_KEY", "MONGODB_URI", "REDIS_URL", "KEYWARD_REDIS_SECRET"]) {
    const ref = env(keyward, name)?.valueFrom?.secretKeyRef;
    expect(ref, `${name} from a secretKeyRef`).toBeDefined();
    const secret = byKind<ISecret>(docs, "Secret").find((doc) => doc.metadata?.name === ref?.name);
    expect(secret?.stringData?.[ref?.key ?? ""], `${name}: Secret ${ref?.name} has key ${ref?.key}`).toBeDefined();
  }

  // The kubelet waits for preStop, then for Keyward's own drain, before it kills.
  const shutdownMs = Number(env(keyward, "KEYWARD_SHUTDOWN_TIMEOUT_MS")?.value ?? defaults.shutdownTimeoutMs);
  const preStop = keyward.lifecycle?.preStop?.exec?.command;
  const preStopSeconds = preStop?.[0] === "sleep" ? Number(preStop[1]) : 0;
  expect(spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(preStopSeconds + shutdownMs / 1000);

  // Port names are unique within the pod (Services and probes refer to them).
  const names = allContainers(spec).flatMap((container) => (container.ports ?? []).map((port) => port.name));
  expect(new Set(names).size).toBe(names.length);
}

/** The runtime stage's USER, as a number. */
function dockerfileUser(): number {
  const user = read("Dockerfile").match(/^USER (\d+)(:\d+)?$/m)?.[1];
  if (user === undefined) throw new Error("the Dockerfile has no numeric USER");
  return Number(user);
}

describe("deploy/kubernetes manifests", () => {
  it("are the expected files", () => {
    expect(kubernetesFiles).toEqual(
      expect.arrayContaining(["deploy/kubernetes/sidecar.yaml", "deploy/kubernetes/shared.yaml"]),
    );
  });

  describe.each(kubernetesFiles)("%s", (file) => {
    const docs = documents(read(file));

    it("every document is valid against the Kubernetes schemas, unknown fields refused", () => {
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(get(doc, "metadata", "name"), `${String(doc.kind)} has a name`).toEqual(expect.any(String));
        expect(() => validate(doc), `${String(doc.kind)} ${String(get(doc, "metadata", "name"))}`).not.toThrow();
      }
    });

    it("reads the same as YAML 1.1 (kubectl) and YAML 1.2", () => {
      expect(documents(read(file), "1.1")).toEqual(docs);
    });

    it("every Secret holds placeholders only", () => {
      for (const secret of byKind<ISecret>(docs, "Secret")) {
        expect(secret.data, "no base64 data: stringData placeholders only").toBeUndefined();
        for (const [key, value] of Object.entries(secret.stringData ?? {})) {
          expect(value, `${secret.metadata?.name}.${key}`).toMatch(/^REPLACE_ME/);
        }
      }
    });

    it("sets only settings Keyward reads", () => {
      for (const deploy of byKind<IDeployment>(docs, "Deployment")) {
        for (const container of allContainers(podSpec(deploy)).filter((each) => each.name === "keyward")) {
          for (const { name } of container.env ?? []) {
            if (name.startsWith("KEYWARD_") || name.endsWith("_URI") || name.endsWith("_URL")) {
              expect(SETTING_NAMES, `${file}: ${name}`).toContain(name);
            }
          }
        }
      }
    });

    it("every Keyward container is hardened, probed and wired to its Secret", () => {
      const keywards = byKind<IDeployment>(docs, "Deployment").filter((deploy) =>
        allContainers(podSpec(deploy)).some((container) => container.name === "keyward"),
      );
      expect(keywards.length).toBeGreaterThan(0);
      for (const deploy of keywards) expectHardenedKeyward(deploy, docs);
    });
  });

  it("a broken manifest fails validation", () => {
    const good = deployment(documents(read("deploy/kubernetes/sidecar.yaml")), "billing-api");
    expect(() => validate(good as unknown as Doc)).not.toThrow();

    const portAsText = structuredClone(good) as unknown as Doc;
    const keyward = keywardContainer(podSpec(portAsText as unknown as IDeployment));
    (keyward.ports?.[0] as unknown as Doc).containerPort = "50051";
    expect(() => validate(portAsText)).toThrow(/containerPort must be integer/);

    // Kubernetes' grpc probes take a port number only, unlike httpGet.
    const namedGrpcPort = structuredClone(good) as unknown as Doc;
    const probe = keywardContainer(podSpec(namedGrpcPort as unknown as IDeployment)).readinessProbe;
    (probe?.grpc as unknown as Doc).port = "grpc";
    expect(() => validate(namedGrpcPort)).toThrow(/grpc\/port must be integer/);

    const noSelector = structuredClone(good) as unknown as Doc;
    delete (noSelector.spec as Doc).selector;
    expect(() => validate(noSelector)).toThrow(/selector/);

    expect(() => validate({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } })).toThrow(/no schema known/);
  });

  it("a misspelled or made-up field fails validation, naming its path", () => {
    const sidecar = deployment(documents(read("deploy/kubernetes/sidecar.yaml")), "billing-api");
    const misspelled = structuredClone(sidecar);
    const probe = keywardContainer(podSpec(misspelled)).livenessProbe?.grpc as unknown as Doc;
    probe.servic = probe.service;
    delete probe.service;
    expect(() => validate(misspelled as unknown as Doc)).toThrow(
      /\/spec\/template\/spec\/initContainers\/\d+\/livenessProbe\/grpc must NOT have additional properties \(servic\)/,
    );

    const shared = deployment(documents(read("deploy/kubernetes/shared.yaml")), "keyward");
    const madeUp = structuredClone(shared);
    (keywardContainer(podSpec(madeUp)) as unknown as Doc).restartOnFailure = true;
    expect(() => validate(madeUp as unknown as Doc)).toThrow(
      /\/spec\/template\/spec\/containers\/0 must NOT have additional properties \(restartOnFailure\)/,
    );

    // At the top of a document too.
    const service = byKind<IService>(documents(read("deploy/kubernetes/shared.yaml")), "Service")[0];
    expect(() => validate({ ...service, sepc: {} } as unknown as Doc)).toThrow(
      /^\/ must NOT have additional properties \(sepc\)$/m,
    );
  });
});

describe("deploy/kubernetes/sidecar.yaml", () => {
  const docs = documents(read("deploy/kubernetes/sidecar.yaml"));
  const deploy = deployment(docs, "billing-api");
  const spec = podSpec(deploy);

  it("runs Keyward as a native sidecar beside the application", () => {
    const keyward = keywardContainer(spec);
    expect(spec.initContainers).toContain(keyward);
    expect(keyward.restartPolicy).toBe("Always");
    expect(spec.containers.map((container) => container.name)).toEqual(["billing-api"]);
  });

  it("gives the application Keyward's loopback address and a verify-only key from its own Secret", () => {
    const app = one(spec.containers, "one application container");
    expect(env(app, "KEYWARD_GRPC_ADDRESS")?.value).toBe(`127.0.0.1:${defaults.grpcPort}`);
    const ref = env(app, "KEYWARD_VERIFY_KEY")?.valueFrom?.secretKeyRef;
    expect(ref?.name).toBe("keyward-app");
    const secret = byKind<ISecret>(docs, "Secret").find((doc) => doc.metadata?.name === ref?.name);
    expect(secret?.stringData?.[ref?.key ?? ""]).toMatch(/verify_key/);
    // The application never sees Keyward's own secrets.
    expect(app.env?.some((entry) => entry.valueFrom?.secretKeyRef?.name === "keyward")).toBe(false);
  });

  it("closes Keyward's ports to every other pod", () => {
    const policy = one(byKind<INetworkPolicy>(docs, "NetworkPolicy"), "one NetworkPolicy");
    expect(selects(policy.spec?.podSelector?.matchLabels, podLabels(deploy))).toBe(true);
    expect(policy.spec?.policyTypes).toContain("Ingress");
    const keyward = keywardContainer(spec);
    const closed = new Set<number | string>([defaults.grpcPort, defaults.httpPort]);
    for (const port of keyward.ports ?? []) if (port.name) closed.add(port.name);
    for (const rule of policy.spec?.ingress ?? []) {
      // A rule without ports admits every port.
      expect(rule.ports?.length, "every ingress rule names its ports").toBeGreaterThan(0);
      for (const port of rule.ports ?? []) expect(closed.has(port.port ?? "")).toBe(false);
    }
  });
});

describe("deploy/kubernetes/shared.yaml", () => {
  const docs = documents(read("deploy/kubernetes/shared.yaml"));
  const deploy = deployment(docs, "keyward");
  const labels = podLabels(deploy);
  const keyward = keywardContainer(podSpec(deploy));

  it("runs three replicas spread over nodes and zones", () => {
    expect(deploy.spec?.replicas).toBe(3);
    const spread = podSpec(deploy).topologySpreadConstraints ?? [];
    expect(spread.map((constraint) => constraint.topologyKey).sort()).toEqual([
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
    ]);
    for (const constraint of spread) expect(selects(constraint.labelSelector?.matchLabels, labels)).toBe(true);
  });

  it("has a ClusterIP Service with the gRPC and HTTP ports, and a headless one", () => {
    const services = byKind<IService>(docs, "Service");
    const service = services.find((doc) => doc.metadata?.name === "keyward");
    expect(service?.spec?.type).toBe("ClusterIP");
    expect(service?.spec?.ports?.map(({ name, port, appProtocol }) => ({ name, port, appProtocol }))).toEqual([
      { name: "grpc", port: defaults.grpcPort, appProtocol: "grpc" },
      { name: "http", port: defaults.httpPort, appProtocol: "http" },
    ]);
    const headless = services.find((doc) => doc.metadata?.name === "keyward-headless");
    expect(headless?.spec?.clusterIP).toBe("None");
    for (const each of services) {
      expect(each.metadata?.namespace).toBe(deploy.metadata?.namespace);
      expect(selects(each.spec?.selector, labels)).toBe(true);
      for (const port of each.spec?.ports ?? []) expect(containerPort(keyward, port.targetPort)).toBe(port.port);
    }
  });

  it("issue 9 item 4: admits only labelled client namespaces to Keyward's ports, and monitoring to /metrics", () => {
    const policy = one(byKind<INetworkPolicy>(docs, "NetworkPolicy"), "one NetworkPolicy");
    expect(policy.metadata?.namespace).toBe(deploy.metadata?.namespace);
    expect(selects(policy.spec?.podSelector?.matchLabels, labels)).toBe(true);
    expect(policy.spec?.policyTypes).toEqual(["Ingress"]);
    const rules = policy.spec?.ingress ?? [];
    for (const rule of rules) {
      // Every rule names both whom it admits and to which ports: none admits everyone, or every port.
      expect(rule.from?.length, "every ingress rule names its sources").toBeGreaterThan(0);
      expect(rule.ports?.length, "every ingress rule names its ports").toBeGreaterThan(0);
      for (const port of rule.ports ?? []) expect(containerPort(keyward, port.port)).toBeDefined();
    }
    const sources = rules.map((rule) => rule.from?.map((peer) => peer.namespaceSelector?.matchLabels));
    expect(sources).toEqual([[{ "keyward.io/client": "true" }], [{ "kubernetes.io/metadata.name": "monitoring" }]]);
    expect(rules[1]?.ports?.map((port) => containerPort(keyward, port.port))).toEqual([defaults.httpPort]);
  });

  it("has a PodDisruptionBudget and an autoscaler for the Deployment", () => {
    const budget = one(byKind<IPodDisruptionBudget>(docs, "PodDisruptionBudget"), "one PodDisruptionBudget");
    expect(selects(budget.spec?.selector?.matchLabels, labels)).toBe(true);
    expect(budget.spec?.maxUnavailable ?? 0).toBe(1);

    const autoscaler = one(byKind<IHorizontalPodAutoscaler>(docs, "HorizontalPodAutoscaler"), "one autoscaler");
    expect(autoscaler.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "keyward" });
    expect([autoscaler.spec?.minReplicas, autoscaler.spec?.maxReplicas]).toEqual([3, 10]);
    expect(autoscaler.spec?.metrics?.[0]?.resource?.name).toBe("cpu");
    expect(autoscaler.spec?.metrics?.[0]?.resource?.target.averageUtilization).toBeGreaterThan(0);
  });

  it("mounts the rate-limit rules of deploy/envoy/ratelimit.yaml where KEYWARD_RATELIMIT_CONFIG says", () => {
    const path = env(keyward, "KEYWARD_RATELIMIT_CONFIG")?.value ?? "";
    const mount = keyward.volumeMounts?.find((entry) => entry.mountPath === dirname(path));
    const volume = podSpec(deploy).volumes?.find((entry) => entry.name === mount?.name);
    const map = byKind<IConfigMap>(docs, "ConfigMap").find((doc) => doc.metadata?.name === volume?.configMap?.name);
    const rules = map?.data?.[basename(path)];
    expect(rules, `ConfigMap key ${basename(path)}`).toBeDefined();
    expect(documents(rules ?? "")).toEqual(documents(read("deploy/envoy/ratelimit.yaml")));
  });
});

// ---- Istio ---------------------------------------------------------------------------------------

describe("deploy/istio", () => {
  const policies = byKind<IAuthorizationPolicy>(documents(read(istioFiles[0] ?? "")), "AuthorizationPolicy");
  const operator = one(documents(read(istioFiles[1] ?? "")), "one IstioOperator");
  const provider = get(operator, "spec", "meshConfig", "extensionProviders", 0);
  const shared = documents(read("deploy/kubernetes/shared.yaml"));
  const sidecar = documents(read("deploy/kubernetes/sidecar.yaml"));

  it.each(istioFiles)("%s is valid against its CRD schema (@kubernetes-models/istio)", (file) => {
    const docs = documents(read(file));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(() => validate(doc)).not.toThrow();
    expect(documents(read(file), "1.1")).toEqual(docs);
  });

  it("a broken policy fails validation", () => {
    const broken = structuredClone(policies[0]) as unknown as Doc;
    (broken.spec as Doc).action = "EXTERNAL";
    expect(() => validate(broken)).toThrow(/action must be equal to one of the allowed values/);
  });

  it("registers Keyward's gRPC port as the ext_authz provider", () => {
    // The IstioOperator schema describes only apiVersion, kind and metadata; the rest is checked here.
    const service = byKind<IService>(shared, "Service").find((doc) => doc.metadata?.name === "keyward");
    expect(get(provider, "envoyExtAuthzGrpc")).toEqual({
      service: `${service?.metadata?.name}.${service?.metadata?.namespace}.svc.cluster.local`,
      port: service?.spec?.ports?.find((port) => port.name === "grpc")?.port,
      timeout: "0.2s",
      failOpen: false,
      statusOnError: "503",
    });
    expect(get(provider, "name")).toEqual(expect.any(String));
  });

  it("sends the application's requests to that provider", () => {
    const custom = one(
      policies.filter((policy) => policy.spec?.action === "CUSTOM"),
      "one CUSTOM policy",
    );
    expect(custom.spec?.provider?.name).toBe(get(provider, "name"));
    expect(selects(custom.spec?.selector?.matchLabels, podLabels(deployment(sidecar, "billing-api")))).toBe(true);
    expect(custom.spec?.rules?.length).toBeGreaterThan(0);
  });

  it("admits the verifying calls to Keyward only from named workloads", () => {
    const registry = envoy();
    const methods = [
      ...KeyService.methods.map((method) => `/${KeyService.typeName}/${method.name}`),
      ...["envoy.service.auth.v3.Authorization", "envoy.service.ratelimit.v3.RateLimitService"].flatMap((name) =>
        (registry.getService(name)?.methods ?? []).map((method) => `/${name}/${method.name}`),
      ),
    ];
    const verifying = [
      "/envoy.service.auth.v3.Authorization/Check",
      "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit",
      `/${KeyService.typeName}/${KeyService.method.verifyKey.name}`,
    ];
    expect(methods).toEqual(expect.arrayContaining(verifying));

    const allow = one(
      policies.filter((policy) => policy.spec?.action === "ALLOW"),
      "one ALLOW policy",
    );
    const keyward = deployment(shared, "keyward");
    expect(allow.metadata?.namespace).toBe(keyward.metadata?.namespace);
    expect(selects(allow.spec?.selector?.matchLabels, podLabels(keyward))).toBe(true);
    const rules = allow.spec?.rules ?? [];
    // The rule with principals admits exactly the verifying calls; the one without excludes them.
    const named = rules.filter((rule) => rule.from?.some((from) => (from.source?.principals ?? []).length > 0));
    const anyone = rules.filter((rule) => !rule.from);
    expect(named.flatMap((rule) => rule.to?.flatMap((to) => to.operation?.paths ?? []) ?? []).sort()).toEqual(
      [...verifying].sort(),
    );
    expect(anyone.flatMap((rule) => rule.to?.flatMap((to) => to.operation?.notPaths ?? []) ?? []).sort()).toEqual(
      [...verifying].sort(),
    );
    expect(anyone.some((rule) => rule.to?.some((to) => (to.operation?.paths ?? []).length > 0))).toBe(false);
  });
});

// ---- Envoy ---------------------------------------------------------------------------------------

describe("deploy/envoy/envoy.yaml", () => {
  const text = read("deploy/envoy/envoy.yaml");
  const config = one(documents(text), "one document");
  const manager = get(config, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config");
  const filters = list(get(manager, "http_filters"), "http_filters");
  const filter = (name: string) => get(filters.find((entry) => get(entry, "name") === name) ?? {}, "typed_config");
  const extAuthz = filter("envoy.filters.http.ext_authz");
  const ratelimit = filter("envoy.filters.http.ratelimit");
  const clusters = list(get(config, "static_resources", "clusters"), "clusters");
  const cluster = (name: unknown) => clusters.find((entry) => get(entry, "name") === name);
  const endpoint = (entry: unknown) =>
    get(entry, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address");
  const routes = list(get(manager, "route_config", "virtual_hosts", 0, "routes"), "routes");

  it("is a valid envoy.config.bootstrap.v3.Bootstrap (Envoy's protos, unknown fields refused)", () => {
    const registry = envoy();
    const bootstrap = registry.getMessage("envoy.config.bootstrap.v3.Bootstrap");
    if (!bootstrap) throw new Error("Bootstrap is not in the registry");
    expect(() => fromJson(bootstrap, config as JsonValue, { registry })).not.toThrow();

    const typo = structuredClone(config);
    (
      get(
        typo,
        "static_resources",
        "listeners",
        0,
        "filter_chains",
        0,
        "filters",
        0,
        "typed_config",
        "http_filters",
        1,
        "typed_config",
      ) as Doc
    ).failure_mode_allowed = false;
    expect(() => fromJson(bootstrap, typo as JsonValue, { registry })).toThrow(/failure_mode_allowed/);

    const unknownType = structuredClone(config);
    (get(unknownType, "static_resources", "clusters", 0) as Doc).typed_extension_protocol_options = {
      x: { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.NoSuchOptions" },
    };
    expect(() => fromJson(bootstrap, unknownType as JsonValue, { registry })).toThrow(/NoSuchOptions/);
  });

  it("strips client-sent x-keyward-* headers, then runs ext_authz, then the rate-limit filter, then the router", () => {
    expect(filters.map((entry) => get(entry, "name"))).toEqual([
      "envoy.filters.http.header_mutation",
      "envoy.filters.http.ext_authz",
      "envoy.filters.http.ratelimit",
      "envoy.filters.http.router",
    ]);
  });

  it("issue 9 item 11: removes every header Check sets from what clients send, on every route", () => {
    // A filter of the listener, not of one route: routes that skip ext_authz (/healthz) are covered too.
    const removed = list(
      get(filter("envoy.filters.http.header_mutation"), "mutations", "request_mutations"),
      "mutations",
    );
    expect(removed.map((mutation) => get(mutation, "remove")).sort()).toEqual([...IDENTITY_HEADERS].sort());
  });

  it("sends both gRPC services to a Keyward cluster over HTTP/2 on Keyward's gRPC port", () => {
    const names = [
      get(extAuthz, "grpc_service", "envoy_grpc", "cluster_name"),
      get(ratelimit, "rate_limit_service", "grpc_service", "envoy_grpc", "cluster_name"),
    ];
    expect(names).toEqual(["keyward", "keyward"]);
    const keyward = cluster("keyward");
    expect(get(endpoint(keyward), "port_value")).toBe(defaults.grpcPort);
    expect(
      get(
        keyward,
        "typed_extension_protocol_options",
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config",
        "http2_protocol_options",
      ),
    ).toEqual({});
    expect(endpoint(cluster("app"))).toEqual({ address: "127.0.0.1", port_value: 3000 });
    expect(get(config, "static_resources", "listeners", 0, "address", "socket_address", "port_value")).toBe(10000);
  });

  it("never fails open, speaks API v3 and waits 0.2 s for Keyward", () => {
    expect(get(extAuthz, "transport_api_version")).toBe("V3");
    expect(get(extAuthz, "failure_mode_allow")).toBe(false);
    expect(get(extAuthz, "grpc_service", "timeout")).toBe("0.2s");
    expect(get(ratelimit, "rate_limit_service", "transport_api_version")).toBe("V3");
  });

  it("passes Keyward every header a key can come in (KEYWARD_EXTAUTHZ_KEY_HEADERS)", () => {
    const allowed = list(get(extAuthz, "allowed_headers", "patterns"), "allowed_headers").map((pattern) =>
      String(get(pattern, "exact")).toLowerCase(),
    );
    expect(allowed).toEqual(expect.arrayContaining([...defaults.extAuthzKeyHeaders]));
  });

  it("shows, commented out, the root key both gRPC services need with KEYWARD_VERIFY_AUTH=root_key", () => {
    const examples = text.match(/# initial_metadata:\n\s*#\s+- key: authorization\n\s*#\s+value: "Bearer kw_root_/g);
    expect(examples).toHaveLength(2);
  });

  it("passes only Keyward's route settings in context_extensions", () => {
    const settings = routes
      .map((route) =>
        get(route, "typed_per_filter_config", "envoy.filters.http.ext_authz", "check_settings", "context_extensions"),
      )
      .filter((value): value is Record<string, unknown> => value !== undefined);
    expect(settings.length).toBeGreaterThan(0);
    for (const extensions of settings) {
      for (const [key, value] of Object.entries(extensions)) {
        expect(["keyward.permission_query", "keyward.cost"]).toContain(key);
        if (key === "keyward.cost") expect(value).toMatch(/^[1-9]\d*$/);
      }
    }
  });

  describe("deploy/envoy/ratelimit.yaml", () => {
    const rules = readDescriptorConfig(one(documents(read("deploy/envoy/ratelimit.yaml")), "one document"));

    it("is read by Keyward's own reader, for the rate-limit filter's domain", () => {
      expect(rules.domain).toBe(get(ratelimit, "domain"));
      expect(rules.descriptors.map((rule) => rule.key)).toEqual(["remote_address", "x-keyward-key-id", "generic_key"]);
      expect(rules.descriptors.some((rule) => rule.shadowMode)).toBe(false);
      expect(() =>
        readDescriptorConfig({
          domain: "keyward",
          descriptors: [{ key: "a", rate_limit: { unit: "fortnight", requests_per_unit: 1 } }],
        }),
      ).toThrow(/unit/);
    });

    it("has a rule for every descriptor the routes send", () => {
      /** The descriptor Envoy builds from one rate_limits entry, with sample values. */
      const descriptor = (actions: unknown[]): DescriptorEntry[] =>
        actions.map((action) => {
          if (get(action, "request_headers")) {
            return {
              key: String(get(action, "request_headers", "descriptor_key")),
              value: "key_01JD000000000000000000000",
            };
          }
          if (get(action, "remote_address")) return { key: "remote_address", value: "203.0.113.7" };
          if (get(action, "generic_key")) {
            const key = get(action, "generic_key", "descriptor_key") ?? "generic_key";
            return { key: String(key), value: String(get(action, "generic_key", "descriptor_value")) };
          }
          throw new Error(`no sample for the action ${JSON.stringify(action)}`);
        });
      const sent = routes.flatMap((route) =>
        list(get(route, "route", "rate_limits") ?? [], "rate_limits").map((entry) =>
          descriptor(list(get(entry, "actions"), "actions")),
        ),
      );
      expect(sent.length).toBeGreaterThan(0);
      for (const entries of sent) {
        expect(matchDescriptor(rules, entries).kind, JSON.stringify(entries)).not.toBe("unlimited");
      }
      expect(matchDescriptor(rules, [{ key: "x-keyward-key-id", value: "key_1" }]).kind).toBe("key");
      expect(matchDescriptor(rules, [{ key: "no-such-entry", value: "x" }]).kind).toBe("unlimited");
    });
  });
});

// ---- Dockerfile ----------------------------------------------------------------------------------

describe("Dockerfile", () => {
  const lines = read("Dockerfile").split("\n");
  const stages = lines.filter((line) => line.startsWith("FROM "));
  const runtime = lines.slice(lines.lastIndexOf(stages.at(-1) ?? ""));

  it("builds on node:22-bookworm-slim and runs as a non-root user, in production mode", () => {
    expect(stages.map((line) => line.split(" ")[1])).toEqual(["node:22-bookworm-slim", "node:22-bookworm-slim"]);
    expect(dockerfileUser()).toBeGreaterThan(0);
    expect(runtime).toContain("ENV NODE_ENV=production");
    expect(runtime).toContain('CMD ["node", "dist/src/main.js"]');
    expect(runtime).toContain(`EXPOSE ${defaults.grpcPort} ${defaults.httpPort}`);
  });

  it("copies only package.json, node_modules and dist into the runtime stage", () => {
    const copied = runtime.filter((line) => line.startsWith("COPY ")).map((line) => line.split(" ").at(-2));
    expect(copied.sort()).toEqual(["/app/dist", "/app/node_modules", "/app/package.json"]);
  });

  it("copies existing paths into the build stage, one COPY a line (.ci/image-steps reads them)", () => {
    const build = lines.slice(0, lines.indexOf(stages.at(-1) ?? "")).filter((line) => line.startsWith("COPY "));
    expect(build.length).toBeGreaterThan(0);
    for (const line of build) {
      expect(line.endsWith("\\")).toBe(false);
      for (const source of line.split(" ").slice(1, -1))
        expect(readdirSync(join(root, dirname(source)))).toContain(basename(source));
    }
  });
});
