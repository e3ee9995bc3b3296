import { randomBytes } from "node:crypto";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { monotonicFactory, ulid } from "ulid";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { createImportedKeyRules } from "../cache/imported-prefixes.js";
import { createKeyspaceRoles } from "../cache/keyspace-roles.js";
import { createAuditLog } from "../chain/audit-trail.js";
import { createAuthFailureLimiter } from "../chain/auth-failure-limiter.js";
import { createAuthentication } from "../chain/authentication.js";
import { bindService } from "../chain/bind-service.js";
import { createErrorMapping } from "../chain/error-mapping.js";
import { createFaultLog } from "../chain/fault-log.js";
import { createMethodAuthorization } from "../chain/method-authorization.js";
import { createObservation } from "../chain/observation.js";
import { RefusalAudit } from "../chain/refusal-audit.js";
import { createRootKeyAuthenticator } from "../chain/root-key-authenticator.js";
import { createValidation } from "../chain/validation.js";
import { CreditLeases } from "../credits/credit-leases.js";
import { tellCreditChanges } from "../credits/tell-credit-changes.js";
import { createExtAuthzService } from "../envoy/ext-authz-service.js";
import { createRatelimitService } from "../envoy/ratelimit-service.js";
import { type Clock, systemClock } from "../keys/clock.js";
import { createImportedKeyHasher, createKeyHasher } from "../keys/key-hasher.js";
import { createKeyIdFactory } from "../keys/key-id.js";
import { pooledPrng } from "../keys/random-pool.js";
import type { Logger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { checkReadiness } from "../observability/readiness.js";
import { createFailureCounter } from "../ratelimit/failure-counter.js";
import { createAuditService } from "../services/audit-service.js";
import { createKeyService } from "../services/key-service.js";
import { createKeyspaceService } from "../services/keyspace-service.js";
import { createVerifyKey } from "../services/verify-key.js";
import { listenGrpc } from "../transport/grpc/grpc-listener.js";
import { httpRoutes } from "../transport/http/http-routes.js";
import { listenHttp } from "../transport/http/http-server.js";
import { UsageRecorder } from "../usage/usage-recorder.js";
import { createVerification } from "../verification/verification.js";
import { createVerifierScopes } from "../verification/verifier-scope.js";
import { BOOTSTRAP_KEY_ID, bootstrap } from "./bootstrap.js";
import type { Config } from "./config.js";
import { openAdapters } from "./open-adapters.js";
import { loadRatelimitConfig } from "./ratelimit-config-file.js";

/** A running Keyward. */
export interface Keyward {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** In dev mode without KEYWARD_ROOT_KEY: the root key made at start-up, to be shown once. */
  readonly generatedRootKey?: string | undefined;
  /**
   * Stops accepting calls, drains those in flight (cutting off what is left
   * a second before KEYWARD_SHUTDOWN_TIMEOUT_MS), closes the stores.
   */
  stop(): Promise<void>;
}

export interface KeywardOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** How often the gRPC health service re-checks the stores. */
  readonly healthRefreshMs?: number | undefined;
}

const READINESS_TIMEOUT_MS = 1_000;
/** Repeats of one kind of server fault within this long are summed up in one line instead of logged each. */
const FAULT_LOG_INTERVAL_MS = 60_000;
/** Of KEYWARD_SHUTDOWN_TIMEOUT_MS, what is kept back from draining calls to flush usage and close the stores. */
const STOP_MARGIN_MS = 1_000;
/** Calls that verify keys rather than manage them: authenticated as VerifyKey is, never audited. */
const VERIFYING = new Set<DescMethodUnary>([
  KeyService.method.verifyKey,
  Authorization.method.check,
  RateLimitService.method.shouldRateLimit,
]);

/** Wires stores, services and both transports together and starts listening. */
export async function startKeyward({
  config,
  logger,
  clock = systemClock,
  healthRefreshMs = 5_000,
}: KeywardOptions): Promise<Keyward> {
  // A bad rules file stops start-up before any store is opened or written to.
  const ratelimitRules = config.ratelimitConfigPath ? loadRatelimitConfig(config.ratelimitConfigPath) : undefined;
  const metrics = new Metrics();
  const stores = await openAdapters(config, logger, metrics, clock);
  const hasher = createKeyHasher(config.hashSecret);
  const importedHasher = createImportedKeyHasher(config.hashSecret);
  const usage = new UsageRecorder(stores.keys, logger, config.usageFlushMs);
  usage.start();
  // Monotonic: events of one process sort in the order they were made, and the pool spares the system generator.
  const eventIds = monotonicFactory(pooledPrng);
  const newEventId = (time: number) => `evt_${eventIds(time)}`;
  const { generatedRootKey } = await bootstrap(
    { keys: stores.keys, keyspaces: stores.keyspaces, audit: stores.audit, newEventId, hasher, clock },
    { rootKey: config.rootKey, revokeRootKey: config.revokeRootKey, devMode: config.devMode },
  ).catch(async (error: unknown) => {
    await usage.stop();
    await stores.close();
    throw error;
  });

  // Outermost first. Audit sits outside authentication so that refusals are recorded. Whether the caller
  // may call the method at all is settled before its request is validated: validation is work done for it.
  const needsRootKey = (method: DescMethodUnary) => !(VERIFYING.has(method) && config.verifyAuth === "none");
  const faultLog = createFaultLog(logger, FAULT_LOG_INTERVAL_MS);
  const refusals = new RefusalAudit({
    audit: stores.audit,
    logger,
    intervalMs: config.audit.refusalIntervalMs,
    newEventId,
  });
  refusals.start();
  const middleware = [
    createObservation(logger, metrics, faultLog),
    createAuditLog({
      audit: stores.audit,
      refusals,
      clock,
      newEventId,
      logger,
      audited: (method) => !VERIFYING.has(method),
    }),
    createErrorMapping(),
    createAuthentication({
      authenticate: createRootKeyAuthenticator({
        store: stores.keys,
        hasher,
        clock,
        keysVersion: () => stores.cache.version,
      }),
      failures: createAuthFailureLimiter(config.authFailuresPerMinute, clock),
      needsRootKey,
    }),
    createMethodAuthorization({ needsPrincipal: needsRootKey }),
    createValidation(),
  ];
  // A new holder id at every start: a restarted replica never takes over what a dead one leased.
  const credits = new CreditLeases({
    ledger: stores.keys,
    holder: randomBytes(8).toString("hex"),
    settings: config.creditLeases,
    clock,
    logger,
    onWrite: (write) => metrics.creditWrite(write),
  });
  credits.start();
  const verify = createVerification({
    keys: stores.keys,
    credits,
    keyspaceRoles: createKeyspaceRoles(stores.keyspaces),
    hasher,
    imported: { rules: createImportedKeyRules(stores.keyspaces), hasher: importedHasher },
    clock,
    limiter: stores.limiter,
    recordUsage: (keyId, outcome, now) => usage.record(keyId, outcome, now),
    observe: (status) => metrics.verification(status),
    observeRatelimit: (limited) => metrics.ratelimit("verify", limited ? "limited" : "allowed"),
  });
  const scopeOf = createVerifierScopes({
    unauthenticatedKeyspaces: config.verifyKeyspaces,
    rootKeys: config.verifyRootKeys,
  });
  const failures = createFailureCounter(config.verifyFailuresPerMinute, clock);
  const keyService = createKeyService({
    keys: tellCreditChanges(stores.keys, credits),
    keyspaces: stores.keyspaces,
    hasher,
    importedHasher,
    clock,
    newKeyId: createKeyIdFactory(clock),
    bootstrapKeyId: BOOTSTRAP_KEY_ID,
    verifyKey: createVerifyKey({ verify, scopeOf, failures }),
  });
  const services = [
    bindService(KeyService, keyService, middleware),
    bindService(
      KeyspaceService,
      createKeyspaceService({
        keyspaces: stores.keyspaces,
        clock,
        newKeyspaceId: () => `ks_${ulid(clock()).toLowerCase()}`,
      }),
      middleware,
    ),
    bindService(AuditService, createAuditService(stores.audit), middleware),
  ];
  // Envoy's services, on the gRPC port only.
  const envoyServices = [
    bindService(
      Authorization,
      createExtAuthzService({ verify, scopeOf, failures, keyHeaders: config.extAuthzKeyHeaders, clock }),
      middleware,
    ),
    bindService(
      RateLimitService,
      createRatelimitService({
        config: ratelimitRules,
        limiter: stores.limiter,
        keys: stores.keys,
        scopeOf,
        maxCountersPerRule: config.ratelimitMaxCountersPerRule,
        clock,
        logger,
        metrics,
      }),
      middleware,
    ),
  ];
  const readiness = () =>
    checkReadiness(stores.dependencies, READINESS_TIMEOUT_MS, (name, up, seconds) =>
      metrics.dependency(name, up, seconds),
    );
  /** Stops what runs in the background and closes the stores: the end of a stop, or of a start that failed. */
  const release = async () => {
    faultLog.stop();
    // Leases go back before the stores close (after calls drained): a graceful stop loses no credits.
    await Promise.all([refusals.stop(), usage.stop(), credits.stop()]);
    await stores.close();
  };
  const grpc = await listenGrpc(
    [...services, ...envoyServices],
    config.host,
    config.grpcPort,
    config.connections,
  ).catch(async (error: unknown) => {
    await release();
    throw error;
  });
  const http = await listenHttp(
    httpRoutes(services, readiness, metrics.registry, logger),
    config.httpPort,
    config.host,
    config.connections,
  ).catch(async (error: unknown) => {
    await grpc.close(0);
    await release();
    throw error;
  });

  // The gRPC health service mirrors /readyz, refreshed in the background.
  const refreshHealth = async () => grpc.setServing((await readiness()).ready);
  await refreshHealth();
  const healthTimer = setInterval(refreshHealth, healthRefreshMs);
  healthTimer.unref();

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    generatedRootKey,
    async stop() {
      clearInterval(healthTimer);
      grpc.setServing(false);
      const drainMs = Math.max(0, config.shutdownTimeoutMs - STOP_MARGIN_MS);
      await Promise.all([grpc.close(drainMs), http.close(drainMs)]);
      await release();
    },
  };
}
