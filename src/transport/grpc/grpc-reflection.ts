import { type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";

/**
 * Server reflection (v1 and v1alpha) for grpcurl and `buf curl`, describing our
 * services and the health service from the descriptors embedded in the
 * generated code, with every file they import.
 */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const files = new Map<string, DescFile>();
  const collect = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(collect);
  };
  for (const service of [...services, Health]) collect(service.file);
  const fileDescriptorProtos = [...files.values()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  // The reflection service reads nothing but `fileDescriptorProtos` of each entry.
  const definition = { keyward: { format: "FileDescriptorProto", type: {}, fileDescriptorProtos } };
  new ReflectionService(definition as unknown as ConstructorParameters<typeof ReflectionService>[0]).addToServer(
    server,
  );
}
