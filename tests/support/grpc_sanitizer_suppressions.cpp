// Sanitizer suppressions for the gRPC and client tests, for the asan and tsan presets: Debian's gRPC,
// abseil, protobuf/upb and OpenSSL are not instrumented, so the sanitizers cannot see their
// synchronisation or their teardown.
//  - LeakSanitizer: libgrpc 1.51 leaves some OpenSSL objects of its TLS handshaker and c-ares resolver
//    buffers allocated at exit (seen in ServeClient.Tls; their stacks lie wholly inside libgrpc, libcrypto
//    and libcares).
//  - ThreadSanitizer: without them every hand-off through gRPC's (invisible) abseil mutexes reads as a
//    race, thousands per run. Reports with a frame in those libraries or gRPC's inline headers are
//    suppressed; races between our own threads (the service's engine threads, the client's callbacks and
//    counters, the tests' bookkeeping) are still reported.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\nleak:libcares.so\n"; }

extern "C" const char* __tsan_default_suppressions();
extern "C" const char* __tsan_default_suppressions() {
  return "race:libgrpc.so\nrace:libgrpc++.so\nrace:libgpr.so\nrace:libupb.so\nrace:libabsl_\nrace:libprotobuf.so\n"
         "race:libcrypto.so\nrace:libssl.so\nrace:grpcpp/\nrace:grpc::internal::\nrace:grpc_core::\n"
         "deadlock:libgrpc.so\ndeadlock:libabsl_\ncalled_from_lib:libgrpc.so\ncalled_from_lib:libgpr.so\n";
}
