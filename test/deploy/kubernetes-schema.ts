import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IConfigMap, INamespace, ISecret, IService } from "kubernetes-models/v1";
import { createGenerator } from "ts-json-schema-generator";

/**
 * The built-in kinds deploy/kubernetes uses, by `${apiVersion}/${kind}`, with kubernetes-models'
 * declarations of them (generated, like its validators, from Kubernetes' OpenAPI definitions).
 * Istio's kinds are left out: their declarations encode the CRD's oneOf rules with Exclude<>,
 * which the generator cannot turn into a faithful schema.
 */
export interface StrictKinds {
  "v1/Namespace": INamespace;
  "v1/Secret": ISecret;
  "v1/ConfigMap": IConfigMap;
  "v1/Service": IService;
  "apps/v1/Deployment": IDeployment;
  "networking.k8s.io/v1/NetworkPolicy": INetworkPolicy;
  "policy/v1/PodDisruptionBudget": IPodDisruptionBudget;
  "autoscaling/v2/HorizontalPodAutoscaler": IHorizontalPodAutoscaler;
}

/**
 * kubernetes-models' validators accept fields they do not know, so a typo (`grpc.servic`) would
 * pass, although kubectl refuses it. ts-json-schema-generator turns the declarations above into a
 * JSON Schema whose objects all have `additionalProperties: false`, and ajv checks each manifest
 * against it: an unknown field fails with its path. One validator per key of StrictKinds.
 */
export function strictValidators(): Map<string, ValidateFunction> {
  const schema = createGenerator({
    path: import.meta.filename,
    tsconfig: join(import.meta.dirname, "../../tsconfig.json"),
    type: "StrictKinds",
    additionalProperties: false,
    skipTypeCheck: true,
    topRef: false,
    jsDoc: "none",
  }).createSchema("StrictKinds");
  // IntOrString and Quantity are `number | string`.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  ajv.addSchema(schema as object, "kinds");
  return new Map(
    Object.keys(schema.properties ?? {}).map((kind) => [
      kind,
      ajv.compile({ $ref: `kinds#/properties/${kind.replaceAll("/", "~1")}` }),
    ]),
  );
}
