import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import type { BoundService, Invoke, Middleware, ServiceHandlers } from "./call.js";

/** Wraps each handler of a service in the middleware, outermost first, once at start-up. */
export function bindService<S extends DescService>(
  service: S,
  handlers: ServiceHandlers<S>,
  middleware: readonly Middleware[],
): BoundService {
  const procedures = service.methods.map((descMethod) => {
    if (descMethod.methodKind !== "unary") throw new Error(`${service.typeName}.${descMethod.name} is not unary`);
    const method = descMethod as DescMethodUnary;
    const handler = (handlers as unknown as Record<string, Invoke>)[method.localName];
    if (!handler) throw new Error(`no handler for ${method.parent.typeName}.${method.name}`);
    const invoke = middleware.reduceRight<Invoke>((next, step) => step(next, method), handler);
    return { method, invoke };
  });
  return { service, procedures };
}
