// Sanitizer run-time defaults compiled into every binary and test of a sanitizer build (the asan
// and fuzz presets set CALICO_SANITIZER_DEFAULTS; see cmake/CalicoHelpers.cmake). Defaults built
// into the binary also reach programs started with a cleared environment (the CNI plugins run
// under `env -i` in the tests, as a container runtime runs them), where ASAN_OPTIONS would not.
//
// intercept_tls_get_addr=0: up to LLVM 16 (Debian 12 has clang 14) the run-time's __tls_get_addr
// interceptor takes a dynamic TLS block whose start is at offset 16 in its page for one carrying a
// pre-2.25 glibc header and reads the two words before it; LeakSanitizer's stop-the-world tracer
// then faults ("Tracer caught signal 11 ... LeakSanitizer has encountered a fatal error") and the
// process exits 1 after doing its work correctly. Seen here as one of 240 parallel calico-ipam
// runs of IpamBlockCapTest failing under make asan-test; the same diagnosis is in
// github.com/Mudlet/Mudlet pull 9930. Leak checking itself stays on.
extern "C" const char* __asan_default_options() {  // NOLINT: the run-time's hook name
  return "intercept_tls_get_addr=0";
}
extern "C" const char* __lsan_default_options() {  // NOLINT: the run-time's hook name
  return "intercept_tls_get_addr=0";
}
