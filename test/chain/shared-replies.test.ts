import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { HealthCheckResponseSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { isSharedReply, SharedReplies } from "../../src/chain/shared-replies.js";

describe("SharedReplies", () => {
  it("makes a reply once per object and key, apart for other objects and keys, and frozen", () => {
    const replies = new SharedReplies<object, string, ReturnType<typeof make>>();
    let made = 0;
    const make = () => create(HealthCheckResponseSchema, { status: ++made });
    const [first, second] = [{}, {}];
    const reply = replies.get(first, "a", make);
    expect(replies.get(first, "a", make)).toBe(reply);
    expect(replies.get(first, "b", make)).not.toBe(reply);
    expect(replies.get(second, "a", make)).not.toBe(reply);
    expect(made).toBe(3);
    expect(isSharedReply(reply)).toBe(true);
    expect(isSharedReply(make())).toBe(false);
  });
});
