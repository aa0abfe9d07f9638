#include "cmd_retrieve.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "handoff.hpp"
#include "service_manager.hpp"
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

volatile sig_atomic_t g_child = 0;

void forward_signal(int signal) {
    if (g_child > 0) {
        ::kill(g_child, signal);
    }
}

// Puts fd at kChildFd with the variables that name it, and executes the command in place of
// this process. Returns only on failure.
Error exec_with_fd(const CommandContext& context, int fd) {
    const Invocation& invocation = context.invocation;
    // dup2 clears FD_CLOEXEC on the new number; the same number needs it cleared by hand.
    if (fd == kChildFd) {
        ::fcntl(kChildFd, F_SETFD, 0);
    } else if (::dup2(fd, kChildFd) < 0) {
        const int dup_errno = errno;
        return Error::from_errno(dup_errno, "cannot move the descriptor to 3");
    }
    const std::string session(option_value(invocation, "--session"));
    ::setenv("LUOCTL_FD", std::to_string(kChildFd).c_str(), 1);
    ::setenv("LUOCTL_SESSION", session.c_str(), 1);
    if (invocation.flag("--token")) {
        ::setenv("LUOCTL_TOKEN", std::string(option_value(invocation, "--token")).c_str(), 1);
    } else {
        ::unsetenv("LUOCTL_TOKEN");
    }
    // sd_listen_fds(3): one descriptor, for this very process (exec keeps the pid).
    ::setenv("LISTEN_FDS", "1", 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
    const Result<std::string> fdname = fd_store_name(session);
    ::setenv("LISTEN_FDNAMES", fdname.ok() ? fdname.value().c_str() : "luoctl", 1);
    std::vector<std::string> words(invocation.command_line.begin(), invocation.command_line.end());
    std::vector<char*> argv;
    for (std::string& word : words) {
        argv.push_back(word.data());
    }
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    const int exec_errno = errno;
    return Error::from_errno(exec_errno, "cannot run " + words[0]);
}

// JSON mode: the command runs as a child (its output goes to stderr, so that stdout keeps the one
// JSON object), and its exit status is reported. Signals that would stop luoctl go to it.
Result<int> run_with_fd(const CommandContext& context, Fd fd) {
    std::cout.flush();
    context.out.flush();
    const pid_t child = ::fork();
    if (child < 0) {
        const int fork_errno = errno;
        return Error::from_errno(fork_errno, "fork");
    }
    if (child == 0) {
        ::dup2(STDERR_FILENO, STDOUT_FILENO);
        const Error failed = exec_with_fd(context, fd.get());
        std::cerr << "luoctl: " << failed.message() << '\n';
        ::_exit(127);
    }
    g_child = child;
    struct sigaction forward = {};
    forward.sa_handler = forward_signal;
    sigemptyset(&forward.sa_mask);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) {
        sigaction(signal, &forward, nullptr);
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
    if (context.json == nullptr) {
        // Text mode: COMMAND replaces luoctl, as with flock(1) or timeout(1): its exit status and
        // the signals sent to it are luoctl's.
        std::cout.flush();
        context.out.flush();
        return exec_with_fd(context, reply.fds[0].get());
    }
    const int status = LU_TRY(run_with_fd(context, std::move(reply.fds[0])));
    context.json->key("session").string(session);
    if (invocation.flag("--token")) {
        context.json->key("token").number(number_value(invocation, "--token"));
    }
    context.json->key("exit_status").number(status);
    if (status != 0) {
        return Error(ECANCELED, std::string(invocation.command_line.front()) +
                                    " exited with status " + std::to_string(status));
    }
    return {};
}

constexpr OptionSpec kRetrieveOptions[] = {
    kSessionOption, kTokenOption, kSocketOption, kTimeoutOption, {"--to-socket", "PATH"}};

}  // namespace

constinit const Command kRetrieveCommand = {
    .name = "retrieve",
    .synopsis =
        "--session NAME [--token N] [--socket PATH] (--to-socket PATH | -- COMMAND [ARG...])",
    .summary = "Run a command with a file (or session) that came through the live update",
    .description =
        "Ask the agent for the file preserved under token N of incoming session NAME (without\n"
        "--token: the session's own fd, to drive with the ioctls) and run COMMAND with it as\n"
        "descriptor 3; $LUOCTL_FD names the number, $LUOCTL_SESSION and $LUOCTL_TOKEN the\n"
        "rest, and LISTEN_FDS=1, LISTEN_PID, LISTEN_FDNAMES=NAME make sd_listen_fds(3) work.\n"
        "COMMAND replaces luoctl (exec), so its exit status and signals are luoctl's; with\n"
        "--json luoctl runs it as a child instead, passes on SIGTERM/SIGINT/SIGHUP/SIGQUIT and\n"
        "reports its exit_status (exit 1 unless 0). The file's position is as it was before\n"
        "the reboot. Exit status 1 if the retrieve failed.\n"
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
