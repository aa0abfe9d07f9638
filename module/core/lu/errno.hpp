// SPDX-License-Identifier: GPL-2.0
// The errno values the core returns. They are the kernel's (asm-generic)
// numbers, which are also glibc's on x86_64; unit/errno_test.cpp checks them
// against <cerrno> at compile time (the glue, being C, cannot include this).
#pragma once

namespace lu::errc {

inline constexpr int kPerm = 1;
inline constexpr int kNoEnt = 2;
inline constexpr int kIo = 5;
inline constexpr int kBadF = 9;
inline constexpr int kNoMem = 12;
inline constexpr int kFault = 14;
inline constexpr int kBusy = 16;
inline constexpr int kNoDev = 19;
inline constexpr int kExist = 17;
inline constexpr int kInval = 22;
inline constexpr int kNoSpc = 28;
inline constexpr int kRange = 34;
inline constexpr int kDeadlk = 35;
inline constexpr int kNoSys = 38;
inline constexpr int kNoData = 61;
inline constexpr int kNoLink = 67;
inline constexpr int kBadMsg = 74;
inline constexpr int kOverflow = 75;
inline constexpr int kProtoNoSupport = 93;
inline constexpr int kOpNotSupp = 95;
inline constexpr int kStale = 116;
inline constexpr int kMaxErrno = 4095;

}  // namespace lu::errc
