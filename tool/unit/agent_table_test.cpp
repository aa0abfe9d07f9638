// The agent's bookkeeping: who sees which session, the registry and the state file.
#include "agent_table.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace lu::luoctl {
namespace {

using protocol::FileInfo;
using protocol::SessionInfo;

AgentSession make(std::string name, uid_t uid, std::string state = "preserved",
                  std::string direction = "outgoing") {
    AgentSession session;
    session.info = SessionInfo{.name = name, .uid = uid, .direction = std::move(direction),
                               .state = std::move(state), .files = 1};
    session.files.push_back(
        FileInfo{.session = name, .token = 1, .size = 4096, .state = "preserved", .handler = "memfd"});
    return session;
}

TEST(AgentTable, AClientSeesOnlyItsOwnSessions) {
    AgentTable table;
    table.insert(make("root-vm", 0));
    table.insert(make("user-vm", 1000));
    ASSERT_EQ(table.visible_to(1000).size(), 1u);
    EXPECT_EQ(table.visible_to(1000)[0]->info.name, "user-vm");
    EXPECT_TRUE(table.find("user-vm", 1000).ok());
    // Someone else's session answers exactly like a missing one.
    const Result<AgentSession*> foreign = table.find("root-vm", 1000);
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(foreign.error().errnum(), ENOENT);
    EXPECT_EQ(foreign.error().message(), "no session 'root-vm'");
    EXPECT_EQ(table.find("nope", 1000).error().message(), "no session 'nope'");
}

TEST(AgentTable, CountsLiveOutgoingSessions) {
    AgentTable table;
    table.insert(make("a", 0));
    table.insert(make("b", 0, "lost"));
    table.insert(make("c", 0, "incoming", "incoming"));
    EXPECT_EQ(table.live_outgoing(), 1u);
    table.erase("a");
    EXPECT_EQ(table.live_outgoing(), 0u);
}

TEST(AgentTable, RegistryRoundTripsOutgoingSessionsOnly) {
    AgentTable table;
    table.insert(make("a", 0));
    table.insert(make("b", 1000));
    table.insert(make("lost", 0, "lost"));
    table.insert(make("in", 0, "incoming", "incoming"));
    const Result<std::vector<AgentSession>> back = decode_registry(encode_registry(table));
    ASSERT_TRUE(back.ok()) << back.error().message();
    ASSERT_EQ(back.value().size(), 2u);
    EXPECT_EQ(back.value()[0].info, table.find("a", 0).value()->info);
    EXPECT_EQ(back.value()[1].info.uid, 1000u);
    EXPECT_EQ(back.value()[1].files, table.find("b", 1000).value()->files);
}

// Past the 64 KiB a datagram holds (about 800 sessions): the registry and the state file are
// documents, bounded by memory only, and the registry's chunks join back to it.
TEST(AgentTable, TenThousandSessionsFitTheRegistryAndTheStateFile) {
    AgentTable table;
    for (int i = 0; i < 10000; ++i) {
        const std::string name = "vm-" + std::to_string(i) + std::string(50, 'x');
        table.insert(make(name, 1000));  // with one file
    }
    const std::string text = encode_registry(table);
    EXPECT_GT(text.size(), 10 * protocol::kMaxMessageBytes);
    const std::vector<std::string> chunks = registry_chunks(text);
    std::string joined;
    for (const std::string& chunk : chunks) {
        EXPECT_LE(chunk.size(), kRegistryChunkBytes);
        EXPECT_EQ(chunk.back(), '\n');  // whole lines only
        joined += chunk;
    }
    EXPECT_EQ(joined, text);
    EXPECT_LT(chunks.size(), kMaxRegistryChunks);
    const Result<std::vector<AgentSession>> back = decode_registry(joined);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(back.value().size(), 10000u);
    EXPECT_EQ(back.value()[9999].files.size(), 1u);

    const AgentState header{.pid = 1, .boot_id = "b", .in_fd_store = false, .sessions = {}};
    const Result<AgentState> state = decode_state(encode_state(header, table));
    ASSERT_TRUE(state.ok()) << state.error().message();
    EXPECT_EQ(state.value().sessions.size(), 10000u);
}

TEST(AgentTable, RegistryChunksOfSmallAndEmptyTexts) {
    EXPECT_TRUE(registry_chunks("").empty());
    EXPECT_EQ(registry_chunks("luoctl/1 registry\n"),
              std::vector<std::string>{"luoctl/1 registry\n"});
    // A text of exactly one chunk is one chunk; one byte more makes two, cut at a line's end.
    std::string text(kRegistryChunkBytes - 1, 'a');
    text += '\n';
    EXPECT_EQ(registry_chunks(text).size(), 1u);
    text = "b\n" + text;
    const std::vector<std::string> chunks = registry_chunks(text);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0], "b\n");
}

TEST(AgentTable, RejectsACorruptRegistry) {
    EXPECT_EQ(decode_registry("luoctl/1 state\npid=1\n").error().errnum(), EBADMSG);
    EXPECT_EQ(decode_registry("luoctl/1 registry\nfile=x 1 2 preserved\n").error().errnum(),
              EBADMSG);  // a file of no session
    EXPECT_EQ(decode_registry("luoctl/1 registry\nsession=a\\b 0 outgoing preserved 0\n")
                  .error()
                  .errnum(),
              EBADMSG);  // a name the agent never accepts
    EXPECT_EQ(decode_registry(std::string(100, '\0')).error().errnum(), EBADMSG);
    EXPECT_EQ(decode_registry("luoctl/1 registry\nsession=a 0 outgoing preserved 0\n"
                              "session=a 5 outgoing preserved 0\n")
                  .error()
                  .errnum(),
              EBADMSG);  // one name, two owners
}

TEST(AgentTable, StateFileRoundTrips) {
    AgentTable table;
    table.insert(make("a", 0));
    table.insert(make("in", 0, "incoming", "incoming"));
    table.find("a", 0).value()->files.push_back(FileInfo{
        .session = "a", .token = 7, .size = 4096, .state = "preserved", .handler = "memfd"});
    const AgentState header{.pid = 1234, .boot_id = "b00t", .in_fd_store = true, .sessions = {}};
    const Result<AgentState> state = decode_state(encode_state(header, table));
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state.value().pid, 1234);
    EXPECT_EQ(state.value().boot_id, "b00t");
    EXPECT_TRUE(state.value().in_fd_store);
    // Every session, incoming ones too (an agent restarted in the same boot takes both back).
    ASSERT_EQ(state.value().sessions.size(), 2u);
    EXPECT_EQ(state.value().sessions[0].info, table.find("a", 0).value()->info);
    EXPECT_EQ(state.value().sessions[0].files, table.find("a", 0).value()->files);
    EXPECT_EQ(state.value().sessions[1].info.direction, "incoming");
    EXPECT_EQ(decode_state("luoctl/1 state\n").error().errnum(), EBADMSG);  // no pid
    EXPECT_EQ(decode_state("luoctl/1 state\npid=1\nfile=x 1 2 preserved\n").error().errnum(),
              EBADMSG);  // a file of no session
}

}  // namespace
}  // namespace lu::luoctl
