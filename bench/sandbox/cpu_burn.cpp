// CPU-bound or system-call-bound load for bench_sandbox: "cpu N" runs N
// million steps of a linear congruential generator, "syscalls N" makes N
// thousand getppid() calls (each goes through the seccomp filter).
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cpu_burn cpu|syscalls N\n");
    return 2;
  }
  const long n = std::atol(argv[2]);
  if (std::strcmp(argv[1], "cpu") == 0) {
    unsigned long x = 1;
    for (long i = 0; i < n * 1000000; ++i) x = x * 6364136223846793005UL + 1442695040888963407UL;
    std::printf("%lu\n", x);  // keeps the loop from being optimized away
    return 0;
  }
  long sum = 0;
  for (long i = 0; i < n * 1000; ++i) sum += ::syscall(SYS_getppid);
  return sum < 0;
}
