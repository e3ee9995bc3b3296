import { create, type DescMethodUnary, type DescService, type Message } from "@bufbuild/protobuf";
import type { BoundService, Invoke, Middleware, ServiceHandlers } from "./call.js";

/**
 * Wraps each handler of a service in the middleware, outermost first, once at
 * start-up. The innermost step turns the handler's init object into a message.
 */
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
    const innermost: Invoke = (request, call) =>
      handler(request, call).then((response) => create(method.output, response as never) as Message);
    const invoke = middleware.reduceRight<Invoke>((next, step) => step(next, method), innermost);
    return { method, invoke };
  });
  return { service, procedures };
}
