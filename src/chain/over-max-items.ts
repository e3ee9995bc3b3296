import type { DescMessage, Message } from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

/** Where a message holds lists with a max_items rule, directly or in the messages it carries. */
interface Plan {
  readonly lists: readonly { readonly name: string; readonly maxItems: number; readonly items?: Plan | undefined }[];
  readonly messages: readonly { readonly name: string; readonly plan: Plan }[];
}

const EMPTY: Plan = { lists: [], messages: [] };

/**
 * Whether any list in a message, or in the messages it carries, holds more
 * items than its `max_items` rule allows. Counting answers that long before
 * validation would check the items one by one (seconds for 100,000 of them).
 * Lists within their bounds are looked into, so the work stays within the
 * bounds too. Well-known types carry no such rules and are not entered, but
 * for a field mask limited to a list of paths (`field_mask.in`): it cannot
 * usefully name more paths than the list holds.
 */
export function createOverMaxItems(): (schema: DescMessage) => (message: Message) => boolean {
  const plans = new Map<DescMessage, Plan>();

  function planFor(schema: DescMessage): Plan {
    const known = plans.get(schema);
    if (known) return known;
    // A message that holds itself is planned as if it held nothing more; validation still checks it.
    plans.set(schema, EMPTY);
    const lists: Plan["lists"][number][] = [];
    const messages: Plan["messages"][number][] = [];
    for (const field of schema.fields) {
      if (field.oneof || field.fieldKind === "map") continue;
      const nested =
        field.message && !field.message.typeName.startsWith("google.protobuf.") ? field.message : undefined;
      const nestedPlan = nested ? planFor(nested) : EMPTY;
      const worthEntering = nestedPlan.lists.length > 0 || nestedPlan.messages.length > 0;
      if (field.fieldKind === "list") {
        const rules = getOption(field, fieldRules).type;
        const maxItems = rules.case === "repeated" ? rules.value.maxItems : undefined;
        if (maxItems !== undefined || worthEntering) {
          lists.push({
            name: field.localName,
            maxItems: maxItems === undefined ? Number.POSITIVE_INFINITY : Number(maxItems),
            items: worthEntering ? nestedPlan : undefined,
          });
        }
      } else if (field.fieldKind === "message" && worthEntering) {
        messages.push({ name: field.localName, plan: nestedPlan });
      } else if (field.message?.typeName === "google.protobuf.FieldMask") {
        const rules = getOption(field, fieldRules).type;
        const paths = rules.case === "fieldMask" ? rules.value.in.length : 0;
        if (paths > 0)
          messages.push({ name: field.localName, plan: { lists: [{ name: "paths", maxItems: paths }], messages: [] } });
      }
    }
    const plan = lists.length > 0 || messages.length > 0 ? { lists, messages } : EMPTY;
    plans.set(schema, plan);
    return plan;
  }

  function over(plan: Plan, message: Record<string, unknown>): boolean {
    for (const { name, maxItems, items } of plan.lists) {
      const list = message[name] as readonly Record<string, unknown>[];
      if (list.length > maxItems) return true;
      if (items && list.some((item) => over(items, item))) return true;
    }
    for (const { name, plan: nested } of plan.messages) {
      const value = message[name] as Record<string, unknown> | undefined;
      if (value && over(nested, value)) return true;
    }
    return false;
  }

  // Planned once per message type, when the caller asks (at start-up), not per call.
  return (schema) => {
    const plan = planFor(schema);
    return (message) => over(plan, message as unknown as Record<string, unknown>);
  };
}
