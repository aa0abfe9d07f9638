#include "cmd_sessions.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "cli.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

using protocol::Message;
using protocol::Received;

// Descriptors and pids are ints.
constexpr std::uint64_t kMaxInt = std::numeric_limits<int>::max();

Status validate_session(const Invocation& invocation) {
    return check_session_name(LU_TRY(required_option(invocation, "--session")));
}

// ---- preserve ------------------------------------------------------------------------------

Status validate_preserve(const Invocation& invocation) {
    LU_TRY(validate_session(invocation));
    LU_TRY(number_option(invocation, "--token"));
    const int sources = invocation.flag("--fd") + invocation.flag("--file") +
                        invocation.flag("--pid");
    if (sources != 1) {
        return Error(EINVAL, "give exactly one of --fd, --file or --pid");
    }
    if (invocation.flag("--fd")) {
        LU_TRY(number_option(invocation, "--fd", 0, kMaxInt));
    }
    if (invocation.flag("--pid") != invocation.flag("--pidfd-fd")) {
        return Error(EINVAL, "--pid and --pidfd-fd go together");
    }
    if (invocation.flag("--pid")) {
        LU_TRY(number_option(invocation, "--pid", 1, kMaxInt));
        LU_TRY(number_option(invocation, "--pidfd-fd", 0, kMaxInt));
    }
    return {};
}

// The file to preserve, as a descriptor of ours: inherited (--fd), opened (--file), or copied
// out of another process with pidfd_getfd (--pid, which needs ptrace rights over it).
Result<Fd> source_fd(const Invocation& invocation) {
    if (invocation.flag("--fd")) {
        const int fd = static_cast<int>(number_value(invocation, "--fd"));
        const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0) {
            const int dup_errno = errno;
            return Error::from_errno(dup_errno,
                                     "descriptor " + std::to_string(fd) + " is not open in luoctl");
        }
        return Fd::adopt(copy);
    }
    if (invocation.flag("--file")) {
        return Fd::open(std::string(option_value(invocation, "--file")), O_RDWR);
    }
    const std::uint64_t pid = number_value(invocation, "--pid");
    const std::uint64_t target = number_value(invocation, "--pidfd-fd");
    const long pidfd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
    if (pidfd < 0) {
        const int open_errno = errno;
        return Error::from_errno(open_errno, "cannot open process " + std::to_string(pid));
    }
    const Fd pid_fd = Fd::adopt(static_cast<int>(pidfd));
    const long fd = ::syscall(SYS_pidfd_getfd, pid_fd.get(), static_cast<int>(target), 0);
    if (fd < 0) {
        const int getfd_errno = errno;
        return Error::from_errno(getfd_errno, "cannot take descriptor " + std::to_string(target) +
                                                  " of process " + std::to_string(pid));
    }
    return Fd::adopt(static_cast<int>(fd));
}

Status run_preserve(const CommandContext& context) {
    const Invocation& invocation = context.invocation;
    const Fd fd = LU_TRY(source_fd(invocation));
    Message request(protocol::kPreserve);
    request.add("session", option_value(invocation, "--session"));
    request.add("token", number_value(invocation, "--token"));
    const int raw = fd.get();
    const Received reply =
        LU_TRY(protocol::call(agent_address(context), request, std::span<const int>(&raw, 1)));
    const std::uint64_t size =
        protocol::parse_u64(reply.message.get("size").value_or("0")).value_or(0);
    if (context.json != nullptr) {
        context.json->key("session").string(option_value(invocation, "--session"));
        context.json->key("token").number(number_value(invocation, "--token"));
        context.json->key("size").number(size);
    } else {
        context.out << "preserved " << size << " bytes as token "
                    << number_value(invocation, "--token") << " of session '"
                    << option_value(invocation, "--session") << "'\n";
    }
    return {};
}

constexpr OptionSpec kPreserveOptions[] = {
    kSessionOption,   kTokenOption,        {"--fd", "N"}, {"--file", "PATH"},
    {"--pid", "PID"}, {"--pidfd-fd", "N"}, kSocketOption, kTimeoutOption};

// ---- sessions ------------------------------------------------------------------------------

Status run_sessions(const CommandContext& context) {
    const Received reply = LU_TRY(protocol::call(agent_address(context), Message(protocol::kList)));
    std::vector<protocol::SessionInfo> sessions;
    std::vector<protocol::FileInfo> files;
    for (const std::string_view value : reply.message.get_all("session")) {
        sessions.push_back(LU_TRY(protocol::decode_session(value)));
    }
    for (const std::string_view value : reply.message.get_all("file")) {
        files.push_back(LU_TRY(protocol::decode_file(value)));
    }
    if (context.json != nullptr) {
        JsonWriter& json = *context.json;
        json.key("sessions").begin_array();
        for (const protocol::SessionInfo& session : sessions) {
            json.begin_object();
            json.key("name").string(session.name);
            json.key("uid").number(session.uid);
            json.key("direction").string(session.direction);
            json.key("state").string(session.state);
            json.key("files").begin_array();
            for (const protocol::FileInfo& file : files) {
                if (file.session == session.name) {
                    json.begin_object();
                    json.key("token").number(file.token);
                    json.key("handler").string(file.handler);
                    json.key("size").number(file.size);
                    json.key("state").string(file.state);
                    json.end_object();
                }
            }
            json.end_array();
            json.end_object();
        }
        json.end_array();
        return {};
    }
    if (sessions.empty()) {
        context.out << "no sessions\n";
        return {};
    }
    for (const protocol::SessionInfo& session : sessions) {
        context.out << session.name << ": " << session.direction << ", " << session.state
                    << ", uid " << session.uid << ", " << session.files << " file(s)\n";
        for (const protocol::FileInfo& file : files) {
            if (file.session == session.name) {
                context.out << "  token " << file.token << ": " << file.handler << ", "
                            << file.size << " bytes, " << file.state << '\n';
            }
        }
    }
    return {};
}

constexpr OptionSpec kSocketOnly[] = {kSocketOption, kTimeoutOption};

// ---- finish, abort -------------------------------------------------------------------------

Status run_simple(const CommandContext& context, std::string_view verb, std::string_view done) {
    const std::string_view session = option_value(context.invocation, "--session");
    Message request(verb);
    request.add("session", session);
    LU_TRY(protocol::call(agent_address(context), request));
    if (context.json != nullptr) {
        context.json->key("session").string(session);
    } else {
        context.out << "session '" << session << "' " << done << '\n';
    }
    return {};
}

Status run_finish(const CommandContext& context) {
    return run_simple(context, protocol::kFinish, "finished");
}

Status run_abort(const CommandContext& context) {
    return run_simple(context, protocol::kAbort, "aborted: its files are no longer preserved");
}

constexpr OptionSpec kSessionOptions[] = {kSessionOption, kSocketOption, kTimeoutOption};

}  // namespace

constinit const Command kPreserveCommand = {
    .name = "preserve",
    .synopsis = "--session NAME --token N (--fd N | --file PATH | --pid PID --pidfd-fd N)",
    .summary = "Preserve a file across the next live update, through the agent",
    .description =
        "Hand a file to the luoctl agent, which preserves it in session NAME (created if\n"
        "needed, owned by the caller's uid) under token N. The file is luoctl's descriptor N\n"
        "(inherited from the caller), PATH opened read-write, or descriptor N of process PID\n"
        "(pidfd_getfd: needs ptrace rights over PID). The agent keeps it: the caller may exit.\n"
        "Exit status 1 if the agent is not running or the kernel refused the file.\n",
    .max_args = 0,
    .handler = run_preserve,
    .options = kPreserveOptions,
    .validate = validate_preserve,
};

constinit const Command kSessionsCommand = {
    .name = "sessions",
    .synopsis = "[--socket PATH]",
    .summary = "List the caller's sessions held by the agent, with their files",
    .description =
        "List the outgoing and incoming sessions the agent holds for the caller's uid: name,\n"
        "direction, state (preserved, delegated, incoming, retrieved, lost), owner and files\n"
        "(token, handler, size, state). The handler is named from the kind of file the agent\n"
        "was given (a memfd: memfd), since the kernel does not report it. Exit status 1 if\n"
        "the agent is not running.\n",
    .max_args = 0,
    .handler = run_sessions,
    .options = kSocketOnly,
};

constinit const Command kFinishCommand = {
    .name = "finish",
    .synopsis = "--session NAME [--socket PATH]",
    .summary = "End an incoming session's live update; its files become ordinary files",
    .description =
        "Finish incoming session NAME (LIVEUPDATE_SESSION_FINISH): every file's handler must\n"
        "agree, or nothing finishes (exit 1, EBUSY, retry later). Files never retrieved are\n"
        "released.\n",
    .max_args = 0,
    .handler = run_finish,
    .options = kSessionOptions,
    .validate = validate_session,
    .spelled_out = true,
};

constinit const Command kAbortCommand = {
    .name = "abort",
    .synopsis = "--session NAME [--socket PATH]",
    .summary = "Unpreserve an outgoing session before the reboot",
    .description =
        "Close outgoing session NAME in the agent: the kernel unpreserves its files. For a\n"
        "session that a crashed agent lost, acknowledge the loss (check stops failing).\n",
    .max_args = 0,
    .handler = run_abort,
    .options = kSessionOptions,
    .validate = validate_session,
    .spelled_out = true,
};

}  // namespace lu::luoctl
