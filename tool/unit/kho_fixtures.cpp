#include "kho_fixtures.hpp"

#include <libfdt.h>

#include <gtest/gtest.h>

namespace lu::luoctl::test {

std::string kho_root_fdt(std::string_view compatible, std::uint64_t memory_map,
                         const std::vector<RootEntry>& entries) {
    std::vector<std::uint64_t> buffer(512);  // 4 KiB, 8-byte aligned, as the kernel's page
    void* fdt = buffer.data();
    const int size = static_cast<int>(buffer.size() * sizeof(std::uint64_t));
    int err = fdt_create(fdt, size);
    err |= fdt_finish_reservemap(fdt);
    err |= fdt_begin_node(fdt, "");
    err |= fdt_property_string(fdt, "compatible", std::string(compatible).c_str());
    err |= fdt_property(fdt, "preserved-memory-map", &memory_map, sizeof(memory_map));
    for (const RootEntry& entry : entries) {
        err |= fdt_begin_node(fdt, entry.name.c_str());
        err |= fdt_property(fdt, "preserved-data", &entry.phys, sizeof(entry.phys));
        err |= fdt_property(fdt, "blob-size", &entry.size, sizeof(entry.size));
        err |= fdt_end_node(fdt);
    }
    err |= fdt_end_node(fdt);
    err |= fdt_finish(fdt);
    EXPECT_EQ(err, 0) << "building the test tree failed";
    return std::string(static_cast<const char*>(fdt), fdt_totalsize(fdt));
}

}  // namespace lu::luoctl::test
