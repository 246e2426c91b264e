#include "storage/change_message.hpp"

#include "storage/change_class.hpp"

#include <algorithm>
#include <array>
#include <numeric>

namespace kws::storage {

namespace {

using rapidjson::Value;

constexpr std::string_view ellipsis = "\u2026";
constexpr std::string_view arrow = "\u2192";

// Paths listed by name in a summary; the rest are counted.
constexpr size_t listed_paths = 3;

constexpr std::array<const char*, 3> status_lists{
  "containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"};

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

const Value* member(const Value* v, const char* key) {
  if (v == nullptr || !v->IsObject())
    return nullptr;
  auto i = v->FindMember(key);
  return i == v->MemberEnd() ? nullptr : &i->value;
}

std::string_view str(const Value* v, const char* key) {
  const auto* m = member(v, key);
  if (m == nullptr || !m->IsString())
    return {};
  return {m->GetString(), m->GetStringLength()};
}

// Control characters would break the one-line message.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20U || c == '\x7f')
      c = ' ';
  return out;
}

std::string cut_chars(std::string_view s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_continuation(s[i]))
      continue;
    if (chars++ == max_chars)
      return std::string{s.substr(0, i)} + std::string{ellipsis};
  }
  return std::string{s};
}

std::string shown(const Value& v) {
  auto text = v.IsString() ? one_line({v.GetString(), v.GetStringLength()})
                           : compact_json(v);
  return cut_chars(text, max_value_chars);
}

bool is_scalar(const Value& v) {
  return !v.IsObject() && !v.IsArray();
}

std::string describe(const std::string& path, const Value& from,
                     const Value& to) {
  const auto* a = resolve_pointer(from, path);
  const auto* b = resolve_pointer(to, path);
  auto p = one_line(path);
  if (a != nullptr && b != nullptr && is_scalar(*a) && is_scalar(*b))
    return p + ' ' + shown(*a) + std::string{arrow} + shown(*b);
  if (a == nullptr && b != nullptr)
    return is_scalar(*b) ? p + ' ' + std::string{arrow} + shown(*b)
                         : p + " added";
  if (a != nullptr && b == nullptr)
    return p + " removed";
  return p + " changed";
}

const Value* find_by(const Value* list, const char* key,
                     std::string_view value) {
  if (list == nullptr || !list->IsArray())
    return nullptr;
  for (const auto& x : list->GetArray())
    if (str(&x, key) == value)
      return &x;
  return nullptr;
}

// The state kind ("waiting"/"terminated"/other) and its object.
std::pair<std::string_view, const Value*> state_of(const Value* status) {
  const auto* state = member(status, "state");
  for (const char* kind : {"waiting", "terminated"}) {
    const auto* s = member(state, kind);
    if (s != nullptr && s->IsObject())
      return {kind, s};
  }
  return {{}, nullptr};
}

void container_notes(const Value* from, const Value& to,
                     std::vector<std::string>& out) {
  for (const char* list : status_lists) {
    const auto* now = member(member(&to, "status"), list);
    if (now == nullptr || !now->IsArray())
      continue;
    const auto* before = member(member(from, "status"), list);
    for (const auto& c : now->GetArray()) {
      auto name = str(&c, "name");
      auto [kind, state] = state_of(&c);
      if (state == nullptr)
        continue;
      auto [old_kind, old_state] = state_of(find_by(before, "name", name));
      auto reason = str(state, "reason");
      if (old_state != nullptr && old_kind == kind
          && str(old_state, "reason") == reason)
        continue;
      auto note = "container " + one_line(name) + ' ' + std::string{kind};
      if (!reason.empty()) {
        note += ": " + one_line(reason);
        if (kind == "waiting") {
          auto message = str(state, "message");
          if (!message.empty())
            note += ": " + one_line(message);
        } else if (const auto* code = member(state, "exitCode");
                   code != nullptr && code->IsNumber()) {
          note += " (exit " + compact_json(*code) + ')';
        }
      }
      out.push_back(std::move(note));
    }
  }
}

void node_notes(const Value* from, const Value& to,
                std::vector<std::string>& out) {
  const auto* now = member(member(&to, "status"), "conditions");
  if (now == nullptr || !now->IsArray())
    return;
  const auto* before = member(member(from, "status"), "conditions");
  for (const auto& c : now->GetArray()) {
    auto type = str(&c, "type");
    auto status = str(&c, "status");
    const auto* old = find_by(before, "type", type);
    if (old != nullptr && str(old, "status") == status)
      continue;
    auto note = one_line(type) + ' ' + one_line(status);
    std::string detail = one_line(str(&c, "reason"));
    auto message = one_line(str(&c, "message"));
    if (!detail.empty() && !message.empty())
      detail += ' ';
    detail += message;
    if (!detail.empty())
      note += ": " + detail;
    out.push_back(std::move(note));
  }
}

std::string paths_part(const std::vector<std::string>& changed_paths,
                       const Value& from, const Value& to) {
  auto paths = changed_paths;
  std::stable_partition(paths.begin(), paths.end(),
                        [](const auto& p) { return !is_bookkeeping(p); });
  std::string out;
  for (size_t i = 0; i < paths.size() && i < listed_paths; ++i) {
    if (i > 0)
      out += ", ";
    out += describe(paths[i], from, to);
  }
  if (paths.size() > listed_paths)
    out += ", +" + std::to_string(paths.size() - listed_paths) + " more";
  return out;
}

// Cuts parts so that prefix + ": " + parts joined by "; " stays below
// max_message_size: short parts keep their text, long ones share the rest.
// When even a few bytes per part do not fit, the tail parts are counted
// ("+N more") instead of being cut to nothing.
std::string assemble(std::string_view prefix, std::vector<std::string> parts) {
  constexpr size_t limit = max_message_size - 1;
  constexpr size_t min_part = 24;
  // Leave room for at least one part.
  auto head = cut_utf8(prefix, limit - 2 - 2 * min_part) + ": ";
  auto room = limit - head.size();
  auto joined_size
    = [&](size_t k, size_t part_size) { return k * part_size + 2 * (k - 1); };
  size_t total = 0;
  for (const auto& p : parts)
    total += p.size();
  std::string tail;
  if (total + 2 * (parts.size() - 1) > room) {
    auto keep = parts.size();
    while (keep > 1) {
      tail = keep < parts.size()
        ? "+" + std::to_string(parts.size() - keep) + " more"
        : std::string{};
      auto need
        = joined_size(keep, min_part) + (tail.empty() ? 0 : 2) + tail.size();
      if (need <= room)
        break;
      --keep;
    }
    if (keep < parts.size())
      tail = "+" + std::to_string(parts.size() - keep) + " more";
    parts.resize(keep);
  }
  auto budget
    = room - 2 * (parts.size() - 1) - (tail.empty() ? 0 : 2 + tail.size());
  std::vector<size_t> order(parts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return parts[a].size() < parts[b].size();
  });
  auto left = parts.size();
  for (auto i : order) {
    auto share = budget / left--;
    if (parts[i].size() > share)
      parts[i] = cut_utf8(parts[i], share);
    budget -= parts[i].size();
  }
  if (!tail.empty())
    parts.push_back(std::move(tail));
  auto out = std::move(head);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0)
      out += "; ";
    out += parts[i];
  }
  return out;
}

} // namespace

std::string cut_utf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return std::string{s};
  if (max_bytes < ellipsis.size())
    return {};
  auto end = max_bytes - ellipsis.size();
  while (end > 0 && is_continuation(s[end]))
    --end;
  return std::string{s.substr(0, end)} + std::string{ellipsis};
}

std::vector<std::string> state_notes(const Value* from, const Value& to) {
  std::vector<std::string> out;
  auto kind = str(&to, "kind");
  if (kind == "Pod")
    container_notes(from, to, out);
  else if (kind == "Node")
    node_notes(from, to, out);
  return out;
}

std::string update_message(std::string_view prefix,
                           const std::vector<std::string>& changed_paths,
                           const Value& from, const Value& to) {
  auto parts = state_notes(&from, to);
  if (!changed_paths.empty())
    parts.push_back(paths_part(changed_paths, from, to));
  if (parts.empty())
    return cut_utf8(std::string{prefix} + ": no change", max_message_size - 1);
  return assemble(prefix, std::move(parts));
}

} // namespace kws::storage
