// LeakSanitizer suppressions for the gRPC tests (asan preset). Debian's libgrpc 1.51 leaves some OpenSSL
// objects of its TLS handshaker and c-ares resolver buffers allocated at exit (seen in ServeClient.Tls;
// their stacks lie wholly inside libgrpc, libcrypto and libcares). An entry matches when any frame of a
// leaked allocation's stack is in the named library: these name only allocations made by OpenSSL and
// c-ares, never by our code.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\nleak:libcares.so\n"; }
