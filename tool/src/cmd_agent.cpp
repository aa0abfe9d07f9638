// luoctl agent: owns /dev/liveupdate and every session until the reboot, serving clients over a
// Unix socket (the protocol is lib/protocol.hpp; the README's "luoctl agent protocol").
//
// One thread, one request per connection (agent_server.hpp): the agent's table needs no lock,
// and a slow or idle client stalls nobody.
//
// Crashes. A client that dies loses nothing: the agent holds every session it preserved into.
// The agent holds the session fds, and the kernel ties a session's life to its fd (upstream
// semantics): if the agent dies before the reboot, for any reason, every outgoing session it
// held is unpreserved. That cannot be prevented from userspace; it is made visible instead. The
// state file (socket + ".state") names the agent's pid and sessions at every change; when its pid
// is dead, `luoctl check` fails naming the lost sessions, the next agent lists them as "lost"
// (and check keeps failing) until a client preserves into that name again or aborts it, and a
// client asking for a lost session gets ENOLINK with a sentence saying what happened.
//
// Under systemd (README, "luoctl agent under systemd"). Started by systemd (unit
// dist/systemd/luoctl-agent.service, Type=notify), the agent also hands every session fd it holds,
// its registry's too, to its fd store (FDSTORE=1, FDNAME=<session name>), and takes them back
// from LISTEN_FDS when it starts: stopping or restarting the agent loses nothing, and the
// device is free once it has exited, as systemd-shutdown needs it to be. At `systemctl kexec`,
// systemd keeps the stored session fds open across the reboot (FileDescriptorStorePreserve=yes)
// and the next PID 1 retrieves them by name and passes them to the next agent.
#include "cmd_agent.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "agent_lock.hpp"
#include "agent_server.hpp"
#include "agent_table.hpp"
#include "cli.hpp"
#include "handler_name.hpp"
#include "liveupdate.hpp"
#include "private_file.hpp"
#include "service_manager.hpp"
#include "transport.hpp"

namespace lu::luoctl {
namespace {

using protocol::FileInfo;
using protocol::Message;
using protocol::PeerCredentials;
using protocol::Received;
using protocol::SessionInfo;

volatile sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int signal) {
    g_stop_signal = signal;
}

void log_line(const std::string& text) {
    std::cerr << "luoctl agent: " << text << std::endl;
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error(errno != 0 ? errno : ENOENT, "cannot read " + path);
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// This boot's id: a kexec starts a new one, an agent restart does not.
std::string boot_id() {
    const Result<std::string> text = read_file("/proc/sys/kernel/random/boot_id");
    if (!text.ok()) {
        return "";
    }
    std::string id = text.value();
    while (!id.empty() && id.back() == '\n') {
        id.pop_back();
    }
    return id;
}

// The file's size, for listings (0 if it cannot be known).
std::uint64_t file_size(int fd) {
    struct stat st = {};
    return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

class Agent {
public:
    Agent(Fd lock, Fd device, Fd listener, std::string socket_path)
        : lock_(std::move(lock)),
          device_(std::move(device)),
          listener_(std::move(listener)),
          socket_path_(std::move(socket_path)),
          state_path_(socket_path_ + ".state"),
          boot_id_(boot_id()),
          manager_(ServiceManager::from_environment()) {}

    // Before serving: the sessions systemd kept for us, what a predecessor left, and what the
    // previous kernel handed over.
    void start() {
        take_stored_sessions();
        adopt_stale_state();
        adopt_incoming();
        adopt_stored_leftovers();
        save();
        if (manager_) {
            notify("READY=1\nSTATUS=serving " + socket_path_);
        }
    }

    Status serve() {
        AgentServer server(
            listener_.get(),
            [this](const Received& request, const PeerCredentials& peer) {
                return answer(request, peer);
            },
            log_line);
        LU_TRY(server.run([] { return g_stop_signal != 0; }));
        const std::size_t live = table_.live_outgoing();
        if (manager_) {
            notify("STOPPING=1");
        }
        if (manager_ && !table_.all().empty()) {
            log_line("stopping on signal " + std::to_string(g_stop_signal) + ": " +
                     std::to_string(table_.all().size()) +
                     " session(s) stay in systemd's fd store for the next agent");
            save_state(true);
        } else if (live > 0) {
            log_line("stopping on signal " + std::to_string(g_stop_signal) + " while holding " +
                     std::to_string(live) +
                     " outgoing session(s): the kernel unpreserves them as their fds close");
        } else {
            ::unlink(state_path_.c_str());
        }
        ::unlink(socket_path_.c_str());
        return {};
    }

private:
    Reply answer(const Received& request, const PeerCredentials& peer) {
        std::vector<Fd> fds;
        Result<Message> handled = handle(request, peer, fds);
        if (!handled.ok()) {
            return Reply{.message = protocol::error_reply(handled.error()), .fds = {}};
        }
        return Reply{.message = std::move(handled).value(), .fds = std::move(fds)};
    }

    Result<Message> handle(const Received& request, const PeerCredentials& peer,
                           std::vector<Fd>& reply_fds) {
        const Message& message = request.message;
        const std::string& verb = message.verb();
        const std::size_t want_fds = verb == protocol::kPreserve ? 1 : 0;
        if (request.fds.size() != want_fds) {
            return Error(EBADMSG, "'" + verb + "' takes " + std::to_string(want_fds) +
                                      " descriptor(s), got " + std::to_string(request.fds.size()));
        }
        if (verb == protocol::kList) {
            return list(peer.uid);
        }
        if (verb == protocol::kStatus) {
            return status(peer.uid);
        }
        const std::string_view name = LU_TRY(message.require("session"));
        if (!protocol::is_agent_session_name(name)) {
            return Error(EINVAL, "invalid session name '" + std::string(name) + "'");
        }
        if (verb == protocol::kPreserve) {
            return preserve(name, LU_TRY(message.require_u64("token")), request.fds[0].get(), peer);
        }
        if (verb == protocol::kSession) {
            return give_session(name, peer, reply_fds);
        }
        if (verb == protocol::kRetrieve) {
            return retrieve(name, LU_TRY(message.require_u64("token")), peer, reply_fds);
        }
        if (verb == protocol::kFinish) {
            return finish(name, peer);
        }
        if (verb == protocol::kAbort) {
            return abort(name, peer);
        }
        return Error(EOPNOTSUPP, "unknown request '" + verb + "'");
    }

    // A session the peer owns, with the lost case spelled out.
    Result<AgentSession*> owned(std::string_view name, const PeerCredentials& peer) {
        AgentSession* session = LU_TRY(table_.find(name, peer.uid));
        if (session->info.state == "lost") {
            return Error(ENOLINK, "session '" + std::string(name) +
                                      "' was lost: the agent that held it exited before the "
                                      "reboot and the kernel unpreserved its files");
        }
        return session;
    }

    // An outgoing session the peer owns, created if absent (or lost: preserving again is how a
    // client recovers from an agent crash).
    Result<AgentSession*> outgoing_session(std::string_view name, const PeerCredentials& peer) {
        if (table_.contains(name)) {
            Result<AgentSession*> existing = table_.find(name, peer.uid);
            if (!existing.ok()) {
                return Error(EEXIST, "session name '" + std::string(name) +
                                         "' is taken by another user");
            }
            AgentSession* session = existing.value();
            if (session->info.state != "lost") {
                if (!session->outgoing()) {
                    return Error(EEXIST, "'" + std::string(name) +
                                             "' is an incoming session; finish it first");
                }
                return session;
            }
        }
        Fd fd = LU_TRY(create_session(device_.get(), name));
        store(name, fd.get());
        AgentSession session{.info = SessionInfo{.name = std::string(name),
                                                 .uid = peer.uid,
                                                 .direction = "outgoing",
                                                 .state = "preserved",
                                                 .files = 0},
                             .files = {},
                             .fd = std::move(fd)};
        return &table_.insert(std::move(session));
    }

    Result<Message> preserve(std::string_view name, std::uint64_t token, int fd,
                             const PeerCredentials& peer) {
        const bool existed = table_.contains(name);
        AgentSession* session = LU_TRY(outgoing_session(name, peer));
        if (session->file(token) != nullptr) {
            return Error(EEXIST, "session '" + std::string(name) + "' already holds token " +
                                     std::to_string(token));
        }
        const Status preserved = preserve_fd(session->fd.get(), fd, token);
        if (!preserved.ok()) {
            if (!existed) {
                drop(name);  // nothing in it yet: closing it costs nothing
            }
            return Error(preserved.error().errnum(),
                         "session '" + std::string(name) + "': " + preserved.error().message());
        }
        const std::uint64_t size = file_size(fd);
        session->files.push_back(FileInfo{.session = std::string(name),
                                          .token = token,
                                          .size = size,
                                          .state = "preserved",
                                          .handler = handler_of_fd(fd)});
        if (session->info.state != "delegated") {
            session->info.files = session->files.size();
        }
        log_line("uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) +
                 ") preserved token " + std::to_string(token) + " in session '" +
                 std::string(name) + "' (" + std::to_string(size) + " bytes)");
        save();
        Message reply = protocol::ok_reply();
        reply.add("session", name).add("token", token).add("size", size);
        return reply;
    }

    // The delegation model: the client gets the session fd itself.
    Result<Message> give_session(std::string_view name, const PeerCredentials& peer,
                                 std::vector<Fd>& reply_fds) {
        AgentSession* session = nullptr;
        if (!table_.contains(name)) {
            Result<AgentSession*> incoming = adopt_unregistered(name, peer);
            session = incoming.ok() ? incoming.value() : LU_TRY(outgoing_session(name, peer));
        } else {
            session = LU_TRY(outgoing_session_or_owned(name, peer));
        }
        reply_fds.push_back(LU_TRY(session->fd.dup()));
        session->info.state = session->outgoing() ? "delegated" : "retrieved";
        save();
        Message reply = protocol::ok_reply();
        reply.add("session", name).add("direction", session->info.direction);
        return reply;
    }

    Result<AgentSession*> outgoing_session_or_owned(std::string_view name,
                                                    const PeerCredentials& peer) {
        Result<AgentSession*> session = table_.find(name, peer.uid);
        if (session.ok() && session.value()->info.state == "lost") {
            return outgoing_session(name, peer);
        }
        return owned(name, peer);
    }

    // An incoming session that is not in the previous agent's registry (made without the agent):
    // nobody is known to own it, so only root may claim it; to anyone else it does not exist,
    // as another uid's session does not.
    Result<AgentSession*> adopt_unregistered(std::string_view name, const PeerCredentials& peer) {
        if (peer.uid != 0) {
            return Error(ENOENT, "no session '" + std::string(name) + "'");
        }
        Fd fd = LU_TRY(retrieve_session(device_.get(), name));
        store(name, fd.get());
        AgentSession session{.info = SessionInfo{.name = std::string(name),
                                                 .uid = peer.uid,
                                                 .direction = "incoming",
                                                 .state = "incoming",
                                                 .files = 0},
                             .files = {},
                             .fd = std::move(fd)};
        return &table_.insert(std::move(session));
    }

    // A session the agent holds for this peer, or else an incoming one it
    // has not taken yet, adopted now.
    Result<AgentSession*> incoming_or_owned(std::string_view name, const PeerCredentials& peer) {
        if (table_.contains(name)) {
            return owned(name, peer);
        }
        Result<AgentSession*> adopted = adopt_unregistered(name, peer);
        if (!adopted.ok()) {
            return Error(ENOENT, "no session '" + std::string(name) + "'");
        }
        return adopted.value();
    }

    Result<Message> retrieve(std::string_view name, std::uint64_t token,
                             const PeerCredentials& peer, std::vector<Fd>& reply_fds) {
        AgentSession* session = LU_TRY(incoming_or_owned(name, peer));
        if (session->outgoing()) {
            return Error(EINVAL, "session '" + std::string(name) +
                                     "' is outgoing: its files come back after the reboot");
        }
        Fd fd = LU_TRY(retrieve_fd(session->fd.get(), token));
        FileInfo* file = session->file(token);
        if (file == nullptr) {
            session->files.push_back(FileInfo{.session = std::string(name),
                                              .token = token,
                                              .size = file_size(fd.get()),
                                              .state = "retrieved",
                                              .handler = handler_of_fd(fd.get())});
            session->info.files = session->files.size();
        } else {
            file->state = "retrieved";
            file->size = file_size(fd.get());
            file->handler = handler_of_fd(fd.get());
        }
        log_line("uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) +
                 ") retrieved token " + std::to_string(token) + " of session '" +
                 std::string(name) + "'");
        Message reply = protocol::ok_reply();
        reply.add("session", name).add("token", token).add("size", file_size(fd.get()));
        reply_fds.push_back(std::move(fd));
        return reply;
    }

    Result<Message> finish(std::string_view name, const PeerCredentials& peer) {
        AgentSession* session = LU_TRY(incoming_or_owned(name, peer));
        if (session->outgoing()) {
            return Error(EINVAL, "session '" + std::string(name) +
                                     "' is outgoing; 'luoctl abort' unpreserves it");
        }
        const Status finished = finish_session(session->fd.get());
        if (!finished.ok()) {
            return Error(finished.error().errnum(),
                         "session '" + std::string(name) + "': " + finished.error().message());
        }
        log_line("session '" + std::string(name) + "' finished");
        drop(name);
        save();
        Message reply = protocol::ok_reply();
        reply.add("session", name);
        return reply;
    }

    Result<Message> abort(std::string_view name, const PeerCredentials& peer) {
        AgentSession* session = LU_TRY(table_.find(name, peer.uid));
        if (!session->outgoing()) {
            return Error(EINVAL, "session '" + std::string(name) +
                                     "' is incoming; 'luoctl finish' ends it");
        }
        const bool was_lost = session->info.state == "lost";
        drop(name);  // closing the session fd unpreserves its files
        log_line(was_lost ? "lost session '" + std::string(name) + "' acknowledged"
                          : "session '" + std::string(name) + "' aborted (unpreserved)");
        save();
        Message reply = protocol::ok_reply();
        reply.add("session", name);
        return reply;
    }

    Result<Message> list(uid_t uid) {
        Message reply = protocol::ok_reply();
        for (const AgentSession* session : table_.visible_to(uid)) {
            reply.add("session", protocol::encode_session(session->info));
            for (const FileInfo& file : session->files) {
                reply.add("file", protocol::encode_file(file));
            }
        }
        return reply;
    }

    // The module's status, or why there is none (the in-kernel LUO has no MOD_STATUS): then
    // module_errno and module_error, and the client says what cannot be known.
    Result<Message> status(uid_t uid) {
        Message reply = protocol::ok_reply();
        reply.add("agent_pid", static_cast<std::uint64_t>(::getpid()));
        const Result<ModStatus> status = mod_status(device_.get());
        if (status.ok()) {
            const ModStatus& mod = status.value();
            reply.add("ready", mod.ready ? 1 : 0);
            reply.add("generation", mod.generation);
            reply.add("outgoing_sessions", mod.outgoing_sessions);
            reply.add("outgoing_files", mod.outgoing_files);
            reply.add("incoming_sessions", mod.incoming_sessions);
            reply.add("incoming_files", mod.incoming_files);
            reply.add("metadata_bytes", mod.metadata_bytes);
            reply.add("first_error", static_cast<std::uint64_t>(-mod.first_error));
            reply.add("failed_session", mod.failed_session);
            reply.add("failed_token", mod.failed_token);
        } else {
            reply.add("module_errno", static_cast<std::uint64_t>(status.error().errnum()));
            reply.add("module_error", status.error().message());
        }
        std::uint64_t held_files = 0;
        std::uint64_t incoming_sessions = 0;
        std::uint64_t incoming_files = 0;
        for (const AgentSession* session : table_.all()) {
            if (!session->outgoing()) {
                ++incoming_sessions;
                incoming_files += session->files.size();
            } else if (session->info.state != "lost") {
                held_files += session->files.size();
            }
        }
        reply.add("held_sessions", table_.live_outgoing());
        reply.add("held_files", held_files);
        reply.add("held_incoming_sessions", incoming_sessions);
        reply.add("held_incoming_files", incoming_files);
        // The module counts the agent's own registry session too; say how much of it is ours.
        reply.add("registry_sessions", registry_session_.valid() ? 1 : 0);
        reply.add("registry_files", registry_memfds_.size());
        if (registry_error_) {
            reply.add("registry_error", registry_error_->message());
        }
        for (const AgentSession* session : table_.visible_to(uid)) {
            if (session->info.state == "lost") {
                reply.add("lost", session->info.name);
            }
        }
        return reply;
    }

    // The session fds systemd passed from our fd store, by the name the kernel gives them
    // (GET_NAME; the fd store's names are only for removing them again).
    void take_stored_sessions() {
        for (ListenedFd& entry : take_listened_fds()) {
            Result<std::string> name = session_name(entry.fd.get());
            if (!name.ok()) {
                log_line("fd store entry '" + entry.name + "' is not a LUO session (" +
                         name.error().message() + "): dropped");
                if (manager_) {
                    (void)manager_->remove_entry(entry.name);
                }
                continue;
            }
            stored_.insert_or_assign(std::move(name).value(), std::move(entry.fd));
        }
        if (!stored_.empty()) {
            log_line("took " + std::to_string(stored_.size()) +
                     " session(s) back from systemd's fd store");
        }
    }

    // A stored session fd, if systemd passed one for name.
    Fd take_stored(std::string_view name) {
        const auto it = stored_.find(name);
        if (it == stored_.end()) {
            return Fd();
        }
        Fd fd = std::move(it->second);
        stored_.erase(it);
        return fd;
    }

    // A predecessor of this boot. If it stopped under systemd, its sessions are back from the
    // fd store; those that are not were lost with it (it died, or it ran without systemd): keep
    // the outgoing ones as "lost" so that check fails and clients are told. A state file of
    // another boot says nothing about this kernel's sessions (the registry does).
    void adopt_stale_state() {
        const Result<std::string> text = read_file(state_path_);
        if (!text.ok()) {
            return;
        }
        Result<AgentState> state = decode_state(text.value());
        if (!state.ok()) {
            log_line("ignoring " + state_path_ + ": " + state.error().message());
            return;
        }
        AgentState stale = std::move(state).value();
        if (stale.boot_id != boot_id_) {
            log_line("ignoring " + state_path_ + ": written before the last reboot");
            return;
        }
        // Our own registry session: rewritten from the table by save() (its memfd stayed with
        // the previous agent), so the old one goes.
        if (take_stored(kRegistrySession).valid()) {
            unstore(kRegistrySession);
        }
        for (AgentSession& session : stale.sessions) {
            if (!protocol::is_agent_session_name(session.info.name)) {
                continue;
            }
            session.fd = take_stored(session.info.name);
            if (session.fd.valid()) {
                log_line("session '" + session.info.name + "' (" + session.info.direction +
                         ") is back from systemd's fd store");
                table_.insert(std::move(session));
                continue;
            }
            if (!session.outgoing()) {
                continue;  // an incoming session closed unfinished: its files are gone
            }
            if (session.info.state != "lost") {
                log_line("session '" + session.info.name + "' was lost: agent pid " +
                         std::to_string(stale.pid) +
                         " exited holding it and the kernel unpreserved its files");
            }
            session.info.state = "lost";
            session.files.clear();
            table_.insert(std::move(session));
        }
    }

    // After a live update: the previous agent's registry says which incoming sessions are whose.
    // Under systemd, PID 1 has already retrieved them (and the registry) for us.
    void adopt_incoming() {
        Fd registry_session = take_stored(kRegistrySession);
        if (registry_session.valid()) {
            unstore(kRegistrySession);
        } else {
            Result<Fd> retrieved = retrieve_session(device_.get(), kRegistrySession);
            if (!retrieved.ok()) {
                return;  // cold boot, or the previous kernel ran no agent
            }
            registry_session = std::move(retrieved).value();
        }
        Result<std::vector<AgentSession>> registry = read_registry(registry_session.get());
        (void)finish_session(registry_session.get());
        if (!registry.ok()) {
            log_line("previous agent's registry unreadable: " + registry.error().message() +
                     "; incoming sessions are retrieved on request instead");
            return;
        }
        std::vector<AgentSession> sessions = std::move(registry).value();
        for (AgentSession& session : sessions) {
            if (table_.contains(session.info.name)) {
                continue;
            }
            session.fd = take_stored(session.info.name);
            if (!session.fd.valid()) {
                Result<Fd> fd = retrieve_session(device_.get(), session.info.name);
                if (!fd.ok()) {
                    log_line("incoming session '" + session.info.name +
                             "': " + fd.error().message());
                    continue;
                }
                session.fd = std::move(fd).value();
                store(session.info.name, session.fd.get());
            }
            session.info.direction = "incoming";
            session.info.state = "incoming";
            for (FileInfo& file : session.files) {
                file.state = "incoming";
            }
            log_line("incoming session '" + session.info.name + "' of uid " +
                     std::to_string(session.info.uid) + " with " +
                     std::to_string(session.files.size()) + " file(s)");
            table_.insert(std::move(session));
        }
    }

    // Stored sessions that neither the state file nor the registry names: from the previous
    // kernel (with no state file of this boot, nothing stored can be ours from this one), owned
    // by root as unregistered incoming sessions are. None is in the table: whatever went there
    // was taken out of stored_.
    void adopt_stored_leftovers() {
        for (auto& [name, fd] : stored_) {
            if (!protocol::is_agent_session_name(name)) {
                log_line("stored session '" + name + "' is not the agent's: closed");
                unstore(name);
                continue;
            }
            log_line("incoming session '" + name + "' from systemd's fd store, unregistered");
            table_.insert(AgentSession{.info = SessionInfo{.name = name,
                                                           .uid = 0,
                                                           .direction = "incoming",
                                                           .state = "incoming",
                                                           .files = 0},
                                       .files = {},
                                       .fd = std::move(fd)});
        }
        stored_.clear();
    }

    // The fd store follows the table. A failure is logged: the session itself is fine, it only
    // would not outlive this agent.
    void store(std::string_view name, int fd) {
        if (!manager_) {
            return;
        }
        const Status stored = manager_->store(name, fd);
        if (!stored.ok()) {
            log_line("session '" + std::string(name) +
                     "' not kept in the fd store: " + stored.error().message());
        }
    }

    void unstore(std::string_view name) {
        if (manager_) {
            (void)manager_->remove(name);
        }
    }

    void notify(const std::string& state) {
        const Status sent = manager_->notify(state);
        if (!sent.ok()) {
            log_line(sent.error().message());
        }
    }

    // Out of the table and the fd store: the last reference to the session fd closes.
    void drop(std::string_view name) {
        unstore(name);
        table_.erase(name);
    }

    // The previous agent's registry: its chunks in token order, up to the first token absent.
    Result<std::vector<AgentSession>> read_registry(int session) {
        std::string text;
        std::string chunk(kRegistryChunkBytes, '\0');
        for (std::size_t i = 0; i < kMaxRegistryChunks; ++i) {
            Result<Fd> memfd = retrieve_fd(session, kRegistryToken + i);
            if (!memfd.ok() && memfd.error().errnum() == ENOENT && i > 0) {
                break;
            }
            const Fd fd = LU_TRY(std::move(memfd));
            const ssize_t length = ::pread(fd.get(), chunk.data(), chunk.size(), 0);
            if (length < 0) {
                const int read_errno = errno;
                return Error::from_errno(read_errno, "cannot read the registry");
            }
            text.append(chunk.data(), strnlen(chunk.data(), static_cast<std::size_t>(length)));
        }
        return decode_registry(text);
    }

    // Registry and state file follow every change. A failure is logged, not returned: the
    // request itself succeeded, and `luoctl check` reports a registry that is not current.
    void save() {
        const Status registry = save_registry();
        if (!registry.ok()) {
            log_line("registry not saved: " + registry.error().message());
            registry_error_ = registry.error();
        } else {
            registry_error_.reset();
        }
        if (table_.all().empty()) {
            ::unlink(state_path_.c_str());
        } else {
            save_state(false);
        }
    }

    void save_state(bool in_fd_store) {
        const AgentState header{
            .pid = ::getpid(), .boot_id = boot_id_, .in_fd_store = in_fd_store, .sessions = {}};
        const Status written = replace_private_file(state_path_, encode_state(header, table_));
        if (!written.ok()) {
            log_line(written.error().message());
        }
    }

    // The previous agent's registry session may still be open for a moment after we asked
    // systemd to drop it from the fd store (adopt_stale_state): its name is free once it closes.
    Result<Fd> create_registry_session() {
        Result<Fd> session = create_session(device_.get(), kRegistrySession);
        for (int tries = 0; !session.ok() && session.error().errnum() == EEXIST && tries < 200;
             ++tries) {
            ::usleep(10 * 1000);
            session = create_session(device_.get(), kRegistrySession);
        }
        return session;
    }

    Status save_registry() {
        if (table_.live_outgoing() == 0) {
            if (registry_session_.valid()) {
                unstore(kRegistrySession);
            }
            registry_memfds_.clear();
            registry_session_ = Fd();  // unpreserves the registry itself
            return {};
        }
        const std::vector<std::string> chunks = registry_chunks(encode_registry(table_));
        if (chunks.size() > kMaxRegistryChunks) {
            return Error(ENOSPC, "the registry needs " + std::to_string(chunks.size()) +
                                     " chunks, the next agent reads " +
                                     std::to_string(kMaxRegistryChunks));
        }
        if (!registry_session_.valid()) {
            Fd session = LU_TRY(create_registry_session());
            store(kRegistrySession, session.get());
            registry_session_ = std::move(session);
        }
        // A preserved memfd keeps its size: the registry grows by preserving another chunk.
        while (registry_memfds_.size() < chunks.size()) {
            registry_memfds_.push_back(LU_TRY(preserve_registry_chunk(registry_memfds_.size())));
        }
        for (std::size_t i = 0; i < registry_memfds_.size(); ++i) {
            std::string padded = i < chunks.size() ? chunks[i] : std::string();
            padded.resize(kRegistryChunkBytes, '\0');
            if (::pwrite(registry_memfds_[i].get(), padded.data(), padded.size(), 0) !=
                static_cast<ssize_t>(padded.size())) {
                const int write_errno = errno;
                return Error::from_errno(write_errno, "cannot write the registry");
            }
        }
        return {};
    }

    Result<Fd> preserve_registry_chunk(std::size_t index) {
        const int raw = ::memfd_create("luoctl-registry", MFD_CLOEXEC);
        if (raw < 0) {
            const int memfd_errno = errno;
            return Error::from_errno(memfd_errno, "memfd_create");
        }
        Fd memfd = Fd::adopt(raw);
        if (::ftruncate(memfd.get(), kRegistryChunkBytes) != 0) {
            const int truncate_errno = errno;
            return Error::from_errno(truncate_errno, "ftruncate");
        }
        LU_TRY(preserve_fd(registry_session_.get(), memfd.get(), kRegistryToken + index));
        return memfd;
    }

    Fd lock_;  // agent_lock_path(socket), held while the agent runs
    Fd device_;
    Fd listener_;
    std::string socket_path_;
    std::string state_path_;
    std::string boot_id_;
    std::optional<ServiceManager> manager_;          // set when systemd started the agent
    std::map<std::string, Fd, std::less<>> stored_;  // from the fd store, until adopted
    AgentTable table_;
    Fd registry_session_;
    std::vector<Fd> registry_memfds_;      // chunk i is token kRegistryToken + i
    std::optional<Error> registry_error_;  // why the last change is not in the registry
};

// Opens the device and the socket: everything that can make the agent fail to start.
Result<Agent> prepare(const CommandContext& context) {
    const std::string socket = agent_socket(context);
    Fd lock = LU_TRY(take_agent_lock(agent_lock_path(socket)));
    raise_descriptor_limit();
    const std::string device_path = context.environment.sysfs_root == "/"
                                        ? std::string(kLiveUpdateDevice)
                                        : context.environment.sysfs_root +
                                              std::string(kLiveUpdateDevice);
    Result<Fd> device = open_device(device_path);
    if (!device.ok()) {
        if (device.error().errnum() == EBUSY) {
            return Error(EBUSY, device_path +
                                    " is held by another process (one opener at a time; is "
                                    "an agent already running?)");
        }
        return device.error();
    }
    Fd listener = LU_TRY(protocol::listen_at(socket));
    return Agent(std::move(lock), std::move(device).value(), std::move(listener), socket);
}

void install_signal_handlers() {
    struct sigaction action = {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

void report_started(const CommandContext& context, pid_t pid) {
    if (context.json != nullptr) {
        context.json->key("pid").number(pid);
        context.json->key("socket").string(agent_socket(context));
    } else {
        context.out << "agent running (pid " << pid << ", socket " << agent_socket(context)
                    << ")\n";
    }
}

// --detach: the child serves; the parent waits until the child listens (or failed) so that the
// next command can rely on the agent, and reports the child's error as its own.
Status run_detached(const CommandContext& context) {
    // Opened here, so that a log that cannot be written fails the start instead of the agent
    // logging nowhere.
    const std::string log_path(context.invocation.option("--log").value_or("/dev/null"));
    const int log = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log < 0) {
        const int log_errno = errno;
        return Error::from_errno(log_errno, "cannot open the agent's log " + log_path);
    }
    const Fd log_fd = Fd::adopt(log);
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        const int pipe_errno = errno;
        return Error::from_errno(pipe_errno, "pipe");
    }
    std::cout.flush();
    std::cerr.flush();
    const pid_t child = ::fork();
    if (child < 0) {
        const int fork_errno = errno;
        return Error::from_errno(fork_errno, "fork");
    }
    if (child == 0) {
        ::close(ready[0]);
        ::setsid();
        // Nothing of the caller's may stay open here: a shell's $(luoctl agent --detach) waits
        // for its pipe to close, and a daemon keeps no directory busy. The log goes to --log
        // FILE, or nowhere.
        (void)!::chdir("/");
        const int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) {
            ::dup2(null, STDIN_FILENO);
            ::dup2(null, STDOUT_FILENO);
        }
        ::dup2(log_fd.get(), STDERR_FILENO);
        ::dup2(ready[1], 3);  // the one descriptor the child keeps of the caller's
        ready[1] = 3;
        ::close_range(4, ~0U, 0);
        Result<Agent> prepared = prepare(context);
        if (!prepared.ok()) {
            const std::string verdict =
                std::to_string(prepared.error().errnum()) + " " + prepared.error().message();
            (void)!::write(ready[1], verdict.data(), verdict.size());
            ::_exit(1);
        }
        Agent agent = std::move(prepared).value();
        install_signal_handlers();
        agent.start();
        (void)!::write(ready[1], "ok", 2);
        ::close(ready[1]);
        const Status served = agent.serve();
        ::_exit(served.ok() ? 0 : 1);
    }
    ::close(ready[1]);
    std::string verdict;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(ready[0], buffer, sizeof(buffer))) > 0) {
        verdict.append(buffer, n);
    }
    ::close(ready[0]);
    if (verdict != "ok") {
        const std::size_t space = verdict.find(' ');
        const int errnum = space == std::string::npos
                               ? EIO
                               : static_cast<int>(protocol::parse_u64(verdict.substr(0, space))
                                                      .value_or(EIO));
        return Error(errnum >= 1 && errnum <= Error::kMaxErrno ? errnum : EIO,
                     space == std::string::npos ? "the agent exited before it was ready"
                                                : verdict.substr(space + 1));
    }
    report_started(context, child);
    return {};
}

Status run_agent(const CommandContext& context) {
    if (context.invocation.flag("--detach")) {
        return run_detached(context);
    }
    Agent agent = LU_TRY(prepare(context));
    install_signal_handlers();
    agent.start();
    log_line("listening on " + agent_socket(context) + " (pid " + std::to_string(::getpid()) + ")");
    return agent.serve();
}

constexpr OptionSpec kAgentOptions[] = {kSocketOption, {"--detach", ""}, {"--log", "FILE"}};

}  // namespace

constinit const Command kAgentCommand = {
    .name = "agent",
    .synopsis = "[--socket PATH] [--detach [--log FILE]]",
    .summary = "Hold /dev/liveupdate and the sessions of clients until the reboot",
    .description =
        "Open /dev/liveupdate (one opener at a time) and serve clients on a Unix socket\n"
        "(default /run/luoctl.sock, mode 0600; --socket or $LUOCTL_SOCKET to change it). The\n"
        "agent keeps every session it creates open until the kexec, so clients may exit or\n"
        "crash without losing anything. After the live update the new agent retrieves the\n"
        "sessions its predecessor recorded and hands them back to their owners (by uid).\n"
        "If the agent itself dies before the reboot, the kernel unpreserves every session it\n"
        "held (their fds close); 'luoctl check' then fails and names the lost sessions.\n"
        "--detach returns once the agent listens (exit 1 if it could not start); its log\n"
        "then goes to --log FILE (appended) or nowhere.\n"
        "SIGTERM/SIGINT stop it; with sessions held, that unpreserves them too.\n",
    .max_args = 0,
    .handler = run_agent,
    .options = kAgentOptions,
};

}  // namespace lu::luoctl
