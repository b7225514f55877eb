// Fiber scheduler for the kernel emulator: a 40-line context switch (callee-saved registers and
// the stack pointer, x86-64 System V) instead of swapcontext, which makes a system call per switch.
#include "emu.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" void emu_switch(void** save, void* target);
asm(R"(
.text
.globl emu_switch
.type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch, .-emu_switch
)");

namespace {
constexpr size_t STACK = 128 * 1024;

struct Fiber {
  void* sp;
  bool done;
  emu_uint3 tid;
};

using Invoker = void (*)(void**);

struct State {
  std::vector<Fiber> fibers;
  std::vector<char*> stacks;
  void* scheduler = nullptr;
  int current = 0;
  int n = 0;
  int count = 0;
  int gen = 0;
  int warpCount[32] = {0};
  int warpGen[32] = {0};
  float fbuf[1024];
  int ibuf[1024];
  emu_uint3 block{0, 0, 0};
  emu_uint3 bdim{1, 1, 1};
  emu_uint3 gdim{1, 1, 1};
  Invoker invoker = nullptr;
  void** args = nullptr;
};

State st;

void yield() { emu_switch(&st.fibers[st.current].sp, st.scheduler); }

void fiber_main() {
  st.invoker(st.args);
  st.fibers[st.current].done = true;
  void* dead;
  emu_switch(&dead, st.scheduler);
  std::abort();
}

void warp_barrier() {
  int me = st.current;
  int w = me / 32;
  int wn = std::min(32, st.n - w * 32);
  int g = st.warpGen[w];
  if (++st.warpCount[w] == wn) {
    st.warpCount[w] = 0;
    st.warpGen[w]++;
  } else {
    while (st.warpGen[w] == g) yield();
  }
}

void run_block() {
  for (int i = 0; i < st.n; i++) {
    char* top = st.stacks[i] + STACK;
    uintptr_t t = reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15);
    void** sp = reinterpret_cast<void**>(t);
    *--sp = nullptr;                                   // fake return address of fiber_main
    *--sp = reinterpret_cast<void*>(&fiber_main);      // where the first switch returns to
    for (int r = 0; r < 6; r++) *--sp = nullptr;       // rbp rbx r12 r13 r14 r15
    st.fibers[i].sp = sp;
    st.fibers[i].done = false;
    unsigned x = st.bdim.x;
    st.fibers[i].tid = emu_uint3{i % x, (i / x) % st.bdim.y, i / (x * st.bdim.y)};
  }
  st.count = 0;
  for (int w = 0; w < 32; w++) st.warpCount[w] = 0;
  int alive = st.n;
  while (alive > 0) {
    for (int i = 0; i < st.n; i++) {
      if (!st.fibers[i].done) {
        st.current = i;
        emu_switch(&st.scheduler, st.fibers[i].sp);
        if (st.fibers[i].done) alive--;
      }
    }
  }
}
}  // namespace

namespace emu {
emu_uint3& thread_idx() { return st.fibers[st.current].tid; }
emu_uint3& block_idx() { return st.block; }
emu_uint3& block_dim() { return st.bdim; }
emu_uint3& grid_dim() { return st.gdim; }

void syncthreads() {
  int g = st.gen;
  if (++st.count == st.n) {
    st.count = 0;
    st.gen++;
  } else {
    while (st.gen == g) yield();
  }
}

void syncwarp() { warp_barrier(); }

float shfl_xor_f(float v, int mask) {
  int me = st.current;
  int lane = me % 32;
  int base = me - lane;
  int wn = std::min(32, st.n - base);
  st.fbuf[me] = v;
  warp_barrier();
  int src = lane ^ mask;
  float r = src < wn ? st.fbuf[base + src] : v;
  warp_barrier();
  return r;
}

int shfl_xor_i(int v, int mask) {
  int me = st.current;
  int lane = me % 32;
  int base = me - lane;
  int wn = std::min(32, st.n - base);
  st.ibuf[me] = v;
  warp_barrier();
  int src = lane ^ mask;
  int r = src < wn ? st.ibuf[base + src] : v;
  warp_barrier();
  return r;
}
}  // namespace emu

std::unordered_map<std::string, Invoker>& registry() {
  static std::unordered_map<std::string, Invoker> r;
  return r;
}

// Runs kernel `name` over the grid; 0 on success, -1 for an unknown kernel, -2 for a bad block.
extern "C" int emu_launch(const char* name, int gx, int gy, int gz, int bx, void** args) {
  auto it = registry().find(name);
  if (it == registry().end()) return -1;
  if (bx < 1 || bx > 1024) return -2;
  st.invoker = it->second;
  st.args = args;
  st.n = bx;
  st.bdim = emu_uint3{(unsigned)bx, 1, 1};
  st.gdim = emu_uint3{(unsigned)gx, (unsigned)gy, (unsigned)gz};
  if (st.fibers.size() < (size_t)bx) st.fibers.resize(bx);
  while (st.stacks.size() < (size_t)bx) st.stacks.push_back(static_cast<char*>(std::malloc(STACK)));
  for (int z = 0; z < gz; z++)
    for (int y = 0; y < gy; y++)
      for (int x = 0; x < gx; x++) {
        st.block = emu_uint3{(unsigned)x, (unsigned)y, (unsigned)z};
        run_block();
      }
  return 0;
}

template <typename... A>
struct Caller {
  template <void (*F)(A...), size_t... I>
  static void call(void** a, std::index_sequence<I...>) {
    F(*static_cast<A*>(a[I])...);
  }
  template <void (*F)(A...)>
  static void run(void** a) {
    call<F>(a, std::index_sequence_for<A...>{});
  }
};
template <typename... A>
Caller<A...> caller_of(void (*)(A...));

struct Registrar {
  Registrar(const char* name, Invoker f) { registry()[name] = f; }
};
#define EMU_REGISTER(k) static Registrar reg_##k(#k, &decltype(caller_of(k))::template run<k>);
