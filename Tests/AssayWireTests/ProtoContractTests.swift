import AssayWire
import Testing

@Suite("Generated services and enums")
struct ProtoContractTests {
    @Test("method descriptors carry the gRPC path, the kind and the message names")
    func methods() {
        #expect(EchoService.unary.path == "/assay.v1.Echo/Unary")
        #expect(EchoService.unary.service == "assay.v1.Echo")
        #expect(EchoService.unary.method == "Unary")
        #expect(EchoService.unary.kind == .unary)
        #expect(EchoService.serverStream.kind == .serverStreaming)
        #expect(EchoService.clientStream.kind == .clientStreaming)
        #expect(EchoService.bidirectional.kind == .bidirectional)
        #expect(EchoService.ingest.kind == .clientStreaming)
        #expect(HealthService.watch.kind == .serverStreaming)
        #expect(
            ReflectionService.methodStats.erased
                == AnyMethodDescriptor(
                    service: "assay.v1.Reflection",
                    method: "MethodStats",
                    path: "/assay.v1.Reflection/MethodStats",
                    kind: .unary,
                    inputType: "assay.v1.MethodStatsRequest",
                    outputType: "assay.v1.MethodStatsResponse"
                ))
    }

    @Test("the contract lists every service, sorted, with its methods in .proto order")
    func contract() {
        let names = AssayContract.services.map(\.name)
        #expect(names == names.sorted())
        #expect(Set(["assay.v1.Echo", "assay.v1.Health", "assay.v1.Reflection"]).isSubset(of: Set(names)))
        #expect(
            AssayContract.services.first { $0.name == "assay.v1.Echo" }?.methods.map(\.path) == [
                "/assay.v1.Echo/Unary", "/assay.v1.Echo/ServerStream", "/assay.v1.Echo/ClientStream",
                "/assay.v1.Echo/Bidirectional", "/assay.v1.Echo/Ingest",
            ])
        #expect(HealthService.descriptor.methods == [HealthService.check.erased, HealthService.watch.erased])
        #expect(MethodKind(clientStreaming: true, serverStreaming: true) == .bidirectional)
    }

    @Test("enum values drop the enum's prefix and keep their proto names")
    func enums() {
        #expect(HealthCheckResponse.ServingStatus.serving.rawValue == 1)
        #expect(HealthCheckResponse.ServingStatus.notServing.protoName == "NOT_SERVING")
        #expect(HealthCheckResponse.ServingStatus(protoName: "SERVICE_UNKNOWN") == .serviceUnknown)
        #expect(HealthCheckResponse.ServingStatus(protoName: "serving") == nil)
        #expect(HealthCheckResponse.ServingStatus.allKnown.map(\.rawValue) == [0, 1, 2, 3])
        #expect(AllTypes.Color.allKnown == [.unspecified, .red, .green, .negative])
        #expect(AllTypes.Color.negative.rawValue == -1)
        #expect(StatusCode.invalidArgument.rawValue == 3)
        #expect(StatusCode.ok.description == "OK")
        #expect(StatusCode(rawValue: 99).description == "assay.v1.StatusCode(99)")
        #expect(MethodInfo.Kind.serverStreaming.protoName == "SERVER_STREAMING")
        #expect(AllTypes.Color.protoEnumName == "assay.v1.AllTypes.Color")
    }

    @Test("messages know their proto names; keyword fields are usable")
    func messages() {
        #expect(EchoRequest.protoMessageName == "assay.v1.EchoRequest")
        #expect(AllTypes.Nested.protoMessageName == "assay.v1.AllTypes.Nested")
        var message = AllTypes()
        message.class = 3
        message.default = "d"
        #expect(message.jsonString() == #"{"class":3,"default":"d"}"#)
    }
}
