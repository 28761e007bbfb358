#pragma once
// The line format of the control socket (docs/control-socket.md): one JSON object per line each way.
// Private to gateway/control/.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace fg::gateway::control_wire {

// nlohmann's dump() recurses once per nesting level and would overflow the stack on an id like
// [[[[...]]]] 30000 deep, which fits in one line; no real request nests anywhere near this.
constexpr std::size_t kMaxNesting = 64;

// The deepest nesting of arrays and objects in `text`, counting brackets outside strings only. It runs
// before parsing, so it must not trust the text to be valid JSON.
std::size_t nesting_depth(std::string_view text) noexcept;

// Text that came from a client or a peer may hold invalid UTF-8; replaced rather than thrown on.
std::string dump(const nlohmann::json& value);

// {"id":...,"ok":true,...fields}\n with id and ok first, as the protocol shows them; `fields` is an
// object whose members join the answer ("id" and "ok" in it are ignored), null adds nothing, and any
// other value becomes "result".
std::string success_line(const nlohmann::json& id, const nlohmann::json& fields);

// {"id":...,"ok":false,"error":...}\n
// {"id":..,"ok":false,"error":<error>,"code":<code>}: `code` names the failure for machines
// (docs/control-socket.md lists them); `error` says it for people.
std::string error_line(const nlohmann::json& id, std::string_view error, std::string_view code);

// Only spaces, tabs and carriage returns: a stray empty line (a person pressing Enter), left unanswered.
bool is_blank(std::string_view line) noexcept;

}  // namespace fg::gateway::control_wire
