import type {
  DescMessage,
  DescMethodUnary,
  DescService,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { Principal } from "../auth/principal.js";

/** What a service method knows about the call it serves, whichever transport carried it. */
export interface Call {
  readonly method: DescMethodUnary;
  /** The caller's address as the transport saw it. */
  readonly peer: string;
  /** Identifies the call in logs; taken from `x-request-id` when the caller sends one. */
  readonly requestId: string;
  /** A request header (gRPC metadata), by lower-case name. */
  header(name: string): string | undefined;
  /** The root key the caller authenticated with; set once, by the authentication step. */
  principal?: Principal | undefined;
  /** What the call acts on, as authorization learned it; the audit log records it. */
  target?: { keyspaceId?: string | undefined; keyId?: string | undefined } | undefined;
  /** A batch's items as they ended, in order, when the method answers item by item; the audit log records each. */
  items?: { keyspaceId: string; keyId: string; outcome: string }[] | undefined;
}

/** One unary method of a service, free of any transport. */
export type UnaryHandler<M extends DescMethodUnary> = (
  request: MessageShape<M["input"]>,
  call: Call,
) => Promise<MessageInitShape<M["output"]>>;

/** An implementation of every method of a service, keyed like the generated descriptor's `method`. */
export type ServiceHandlers<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary ? UnaryHandler<S["method"][K]> : never;
};

/**
 * A response as handlers give it: a message, or an object to make one from
 * (the transport makes it when it encodes the response; `create` returns a
 * message unchanged).
 */
export type Reply = Message | MessageInitShape<DescMessage>;

/**
 * A method with its handler and the shared call chain applied: what transports
 * invoke. It always answers a promise; failures reject it, never throw.
 */
export type Invoke = (request: Message, call: Call) => Promise<Reply>;

/** A step of the call chain shared by both transports (validation, authentication, logging, ...). */
export type Middleware = (next: Invoke, method: DescMethodUnary) => Invoke;

/** A method ready to be served. */
export interface Procedure {
  readonly method: DescMethodUnary;
  readonly invoke: Invoke;
}

/** A service ready to be served by any transport. */
export interface BoundService {
  readonly service: DescService;
  readonly procedures: readonly Procedure[];
}
