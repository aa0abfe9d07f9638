#include "cmd_retrieve.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli.hpp"
#include "handoff.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

using protocol::Message;
using protocol::Received;

// The descriptor number a command started by `luoctl retrieve` finds its file at, as systemd's
// socket activation starts at 3 (SD_LISTEN_FDS_START).
constexpr int kChildFd = 3;

Status validate_retrieve(const Invocation& invocation) {
    LU_TRY(check_session_name(LU_TRY(required_option(invocation, "--session"))));
    if (invocation.flag("--token")) {
        LU_TRY(number_option(invocation, "--token"));
    }
    const bool to_socket = invocation.flag("--to-socket");
    if (to_socket && !invocation.command_line.empty()) {
        return Error(EINVAL, "give either --to-socket PATH or -- COMMAND, not both");
    }
    if (!to_socket && invocation.command_line.empty()) {
        return Error(EINVAL, "missing '-- COMMAND' (or --to-socket PATH)");
    }
    if (to_socket && option_value(invocation, "--to-socket").empty()) {
        return Error(EINVAL, "--to-socket needs a path");
    }
    return {};
}

// Runs the command with fd at kChildFd and waits for it.
Result<int> run_with_fd(const CommandContext& context, Fd fd) {
    const Invocation& invocation = context.invocation;
    std::vector<std::string> words(invocation.command_line.begin(), invocation.command_line.end());
    std::cout.flush();
    context.out.flush();
    const pid_t child = ::fork();
    if (child < 0) {
        const int fork_errno = errno;
        return Error::from_errno(fork_errno, "fork");
    }
    if (child == 0) {
        // dup2 clears FD_CLOEXEC on the new number; the same number needs it cleared by hand.
        if (fd.get() == kChildFd) {
            ::fcntl(kChildFd, F_SETFD, 0);
        } else if (::dup2(fd.get(), kChildFd) < 0) {
            ::_exit(127);
        }
        ::setenv("LUOCTL_FD", std::to_string(kChildFd).c_str(), 1);
        ::setenv("LUOCTL_SESSION", std::string(option_value(invocation, "--session")).c_str(), 1);
        if (invocation.flag("--token")) {
            ::setenv("LUOCTL_TOKEN", std::string(option_value(invocation, "--token")).c_str(), 1);
        } else {
            ::unsetenv("LUOCTL_TOKEN");
        }
        if (context.json != nullptr) {
            // The command's own output must not break the one JSON object on stdout.
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
        }
        std::vector<char*> argv;
        for (std::string& word : words) {
            argv.push_back(word.data());
        }
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        std::cerr << "luoctl: cannot run " << words[0] << ": " << std::strerror(errno) << '\n';
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            const int wait_errno = errno;
            return Error::from_errno(wait_errno, "waitpid");
        }
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + WTERMSIG(status);
}

// --to-socket: the file goes to whoever listens at PATH, with a header naming it.
Status hand_to_socket(const CommandContext& context, const Received& reply) {
    const Invocation& invocation = context.invocation;
    const std::string path(option_value(invocation, "--to-socket"));
    protocol::Handoff handoff{.session = std::string(option_value(invocation, "--session")),
                              .token = std::nullopt};
    if (invocation.flag("--token")) {
        handoff.token = number_value(invocation, "--token");
    }
    LU_TRY(protocol::send_handoff(path, handoff, reply.fds[0].get()));
    const std::uint64_t size =
        protocol::parse_u64(reply.message.get("size").value_or("0")).value_or(0);
    if (context.json != nullptr) {
        context.json->key("session").string(handoff.session);
        if (handoff.token) {
            context.json->key("token").number(*handoff.token);
            context.json->key("size").number(size);
        }
        context.json->key("socket").string(path);
    } else if (handoff.token) {
        context.out << "handed token " << *handoff.token << " of session '" << handoff.session
                    << "' (" << size << " bytes) to " << path << '\n';
    } else {
        context.out << "handed session '" << handoff.session << "' to " << path << '\n';
    }
    return {};
}

Status run_retrieve(const CommandContext& context) {
    const Invocation& invocation = context.invocation;
    const std::string_view session = option_value(invocation, "--session");
    Message request(invocation.flag("--token") ? protocol::kRetrieve : protocol::kSession);
    request.add("session", session);
    if (invocation.flag("--token")) {
        request.add("token", number_value(invocation, "--token"));
    }
    Received reply = LU_TRY(protocol::call(agent_address(context), request, {}, 1));
    if (invocation.flag("--to-socket")) {
        return hand_to_socket(context, reply);
    }
    const int status = LU_TRY(run_with_fd(context, std::move(reply.fds[0])));
    if (context.json != nullptr) {
        context.json->key("session").string(session);
        if (invocation.flag("--token")) {
            context.json->key("token").number(number_value(invocation, "--token"));
        }
        context.json->key("exit_status").number(status);
    }
    if (status != 0) {
        return Error(ECANCELED, std::string(invocation.command_line.front()) +
                                    " exited with status " + std::to_string(status));
    }
    return {};
}

constexpr OptionSpec kRetrieveOptions[] = {
    kSessionOption, kTokenOption, kSocketOption, {"--to-socket", "PATH"}};

}  // namespace

constinit const Command kRetrieveCommand = {
    .name = "retrieve",
    .synopsis =
        "--session NAME [--token N] [--socket PATH] (--to-socket PATH | -- COMMAND [ARG...])",
    .summary = "Run a command with a file (or session) that came through the live update",
    .description =
        "Ask the agent for the file preserved under token N of incoming session NAME (without\n"
        "--token: the session's own fd, to drive with the ioctls) and run COMMAND with it as\n"
        "descriptor 3; $LUOCTL_FD names the number (3, as systemd's socket activation does),\n"
        "$LUOCTL_SESSION and $LUOCTL_TOKEN the rest. The file's position is as it was before\n"
        "the reboot. Exit status 1 if the retrieve failed or COMMAND did not exit 0.\n"
        "--to-socket PATH hands the descriptor to the program listening on Unix socket PATH\n"
        "instead (seqpacket, stream or datagram): one message, the line\n"
        "'luoctl/1 fd session=NAME token=N' (no token= for a session fd) with the descriptor\n"
        "as SCM_RIGHTS. Exit status 1 if nothing listens there.\n",
    .max_args = 0,
    .handler = run_retrieve,
    .options = kRetrieveOptions,
    .takes_command = true,
    .command_optional = true,
    .validate = validate_retrieve,
};

}  // namespace lu::luoctl
