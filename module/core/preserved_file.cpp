// SPDX-License-Identifier: GPL-2.0
#include "preserved_file.hpp"

#include "handler_registry.hpp"
#include "lu/errno.hpp"
#include "wire.hpp"

#include "lu/enforce.h"

namespace lu {

void PreservedFile::write_record() const {
    ByteSpan record(slot.payload, FileRecord::kSize);
    wire::store<u64>(record, FileRecord::kTokenOffset, token);
    wire::store<u64>(record, FileRecord::kDataOffset, data);
    const char* compatible = lu_handler_compatible(handler);
    for (usize i = 0; i < HandlerRegistry::kCompatibleCapacity; i++) {
        record[FileRecord::kCompatibleOffset + i] = static_cast<u8>(compatible[i]);
        if (compatible[i] == '\0')
            break;
    }
}

Status PreservedFile::declare_dependency(lu_file* dep) {
    if (dep == nullptr || dep == file)
        return err(errc::kInval);
    for (usize i = 0; i < deps.size(); i++)
        if (deps[i].file == dep)
            return ok();
    Dependency edge;
    edge.file = dep;
    LU_TRY(deps.try_append(edge));
    lu_file_ref(dep);
    return ok();
}

}  // namespace lu
