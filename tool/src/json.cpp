#include "json.hpp"

#include <cassert>

namespace lu::luoctl {

void JsonWriter::before_value() {
    if (key_pending_) {
        key_pending_ = false;
        return;
    }
    // Outside an object a value needs no key: it is the document itself or an array element.
    assert(scopes_.empty() || !scopes_.back().is_object);
    if (!scopes_.empty()) {
        if (scopes_.back().has_members) {
            out_ << ',';
        }
        scopes_.back().has_members = true;
    }
}

JsonWriter& JsonWriter::scalar(std::string_view literal) {
    before_value();
    out_ << literal;
    return *this;
}

JsonWriter& JsonWriter::open(char bracket, bool is_object) {
    before_value();
    out_ << bracket;
    scopes_.push_back({.is_object = is_object, .has_members = false});
    return *this;
}

JsonWriter& JsonWriter::close(char bracket, bool is_object) {
    assert(!key_pending_);
    assert(!scopes_.empty() && scopes_.back().is_object == is_object);
    scopes_.pop_back();
    out_ << bracket;
    return *this;
}

void JsonWriter::finish() {
    while (!scopes_.empty()) {
        close(scopes_.back().is_object ? '}' : ']', scopes_.back().is_object);
    }
    out_ << '\n';
    out_.flush();
    finished_ = true;
}

JsonWriter& JsonWriter::begin_object() {
    return open('{', true);
}
JsonWriter& JsonWriter::end_object() {
    return close('}', true);
}
JsonWriter& JsonWriter::begin_array() {
    return open('[', false);
}
JsonWriter& JsonWriter::end_array() {
    return close(']', false);
}

JsonWriter& JsonWriter::key(std::string_view name) {
    assert(!key_pending_);
    assert(!scopes_.empty() && scopes_.back().is_object);
    if (scopes_.back().has_members) {
        out_ << ',';
    }
    scopes_.back().has_members = true;
    out_ << '"' << json_escape(name) << "\":";
    key_pending_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
    return scalar('"' + json_escape(text) + '"');
}

JsonWriter& JsonWriter::boolean(bool value) {
    return scalar(value ? "true" : "false");
}

JsonWriter& JsonWriter::null() {
    return scalar("null");
}

}  // namespace lu::luoctl
