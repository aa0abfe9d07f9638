// Which kernel handler preserves a file, as far as userspace can tell.
//
// The module knows each file's handler, but the uAPI has no call that reports it (upstream's has
// none either). The agent therefore names it from the kind of file it was given, read from the
// descriptor's /proc link: a memfd ("/memfd:NAME (deleted)") is preserved by the memfd handler;
// an anonymous-inode file ("anon_inode:[NAME]") by the handler that owns NAME's file type, named
// NAME; anything else is kUnknownHandler. A guess about the file, not an answer from the kernel,
// and the README says so.
#pragma once

#include <string>
#include <string_view>

#include "protocol.hpp"

namespace lu::luoctl {

// The handler name for a file whose /proc/self/fd link reads link. The result is a word without
// spaces (the protocol's file= entries are space-separated).
constexpr std::string_view handler_of_link(std::string_view link) {
    if (link.starts_with("/memfd:")) {
        return "memfd";
    }
    constexpr std::string_view kAnon = "anon_inode:[";
    if (link.starts_with(kAnon) && link.ends_with("]") && link.size() > kAnon.size() + 1) {
        const std::string_view name = link.substr(kAnon.size(), link.size() - kAnon.size() - 1);
        if (name.find(' ') == std::string_view::npos) {
            return name;
        }
    }
    return protocol::kUnknownHandler;
}

static_assert(handler_of_link("/memfd:luoctl-test (deleted)") == "memfd");
static_assert(handler_of_link("anon_inode:[lutest]") == "lutest");
static_assert(handler_of_link("anon_inode:[]") == "unknown");
static_assert(handler_of_link("anon_inode:[a b]") == "unknown");
static_assert(handler_of_link("/tmp/plain") == "unknown");

// handler_of_link for descriptor fd of this process (kUnknownHandler if the link is unreadable).
std::string handler_of_fd(int fd);

}  // namespace lu::luoctl
