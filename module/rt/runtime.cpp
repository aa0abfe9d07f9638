// SPDX-License-Identifier: GPL-2.0
// The whole C++ runtime of the module.
//
// - operator new/delete sit on the kernel allocator. They never throw: a
//   failed allocation returns nullptr, and the core is built with
//   -fcheck-new so a `new` expression yields nullptr instead of constructing
//   into it; callers turn that into ENOMEM.
// - A pure virtual call is a core bug: report it and keep the kernel alive.
// - Static constructors and destructors are not supported: the kernel runs
//   module constructors only with CONFIG_CONSTRUCTORS, and there is no
//   atexit. Every global is constexpr or constinit; the build rejects any
//   object that defines a static constructor or destructor (the compiler's
//   _GLOBAL__sub_I_/_GLOBAL__sub_D_ functions; see Kbuild).
#include "lu_glue.h"

void* operator new(__SIZE_TYPE__ size) {
    return lu_alloc(size);
}
void* operator new[](__SIZE_TYPE__ size) {
    return lu_alloc(size);
}
void operator delete(void* ptr) noexcept {
    lu_free(ptr);
}
void operator delete[](void* ptr) noexcept {
    lu_free(ptr);
}
void operator delete(void* ptr, __SIZE_TYPE__) noexcept {
    lu_free(ptr);
}
void operator delete[](void* ptr, __SIZE_TYPE__) noexcept {
    lu_free(ptr);
}

extern "C" void __cxa_pure_virtual();
extern "C" void __cxa_pure_virtual() {
    lu_bug("pure virtual call", __FILE__, __LINE__);
}
