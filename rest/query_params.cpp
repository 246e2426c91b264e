#include "rest/query_params.hpp"

#include "storage/change_class.hpp"
#include "storage/json_diff.hpp"
#include "util/errors.hpp"
#include "util/time_format.hpp"

#include <caf/error.hpp>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

namespace kws::rest {

namespace {

caf::error bad(std::string_view parameter, std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::string{parameter},
                         std::move(sentence));
}

/// The parsed query: the value of each known parameter at most once.
class param_reader {
public:
  explicit param_reader(const http_request& req) : req_(req) {}

  /// The value of `name`, nullopt when absent; fails when it repeats.
  caf::expected<std::optional<std::string>> get(std::string_view name) const {
    std::optional<std::string> result;
    const auto n = std::min(req_.query_names.size(), req_.query_values.size());
    for (size_t i = 0; i < n; ++i) {
      if (req_.query_names[i] != name)
        continue;
      if (result)
        return bad(name,
                   "the parameter " + std::string{name}
                     + " is given more than once");
      result = req_.query_values[i];
    }
    return result;
  }

private:
  const http_request& req_;
};

/// Reads `start` and `end` into `start_ns`/`end_ns`.
caf::error read_range(const param_reader& params, int64_t& start_ns,
                      int64_t& end_ns) {
  for (auto [name, out] :
       {std::pair{"start", &start_ns}, std::pair{"end", &end_ns}}) {
    auto value = params.get(name);
    if (!value)
      return value.error();
    if (!*value)
      continue;
    auto t = parse_time(name, **value);
    if (!t)
      return t.error();
    *out = *t;
  }
  if (start_ns > end_ns)
    return bad("start", "start must not be after end");
  return {};
}

caf::error read_limit(const param_reader& params, uint32_t max_limit,
                      uint32_t& limit) {
  limit = max_limit;
  auto value = params.get("limit");
  if (!value)
    return value.error();
  if (!*value)
    return {};
  const auto& text = **value;
  bool negative = !text.empty() && text[0] == '-';
  auto body = std::string_view{text}.substr(negative ? 1 : 0);
  if (body.empty()
      || body.find_first_not_of("0123456789") != std::string_view::npos)
    return bad("limit",
               "limit must be a positive integer, not \"" + text + "\"");
  if (negative || body.find_first_not_of('0') == std::string_view::npos)
    return bad("limit", "limit must be at least 1");
  // Larger values are capped, however many digits they have.
  auto significant = body.substr(body.find_first_not_of('0'));
  if (significant.size() > 9) {
    limit = max_limit;
    return {};
  }
  auto n = std::stoull(std::string{significant});
  limit = n > max_limit ? max_limit : static_cast<uint32_t>(n);
  return {};
}

/// The value of `name`, which must be one of `words` ("a, b or c" in the
/// error); nullopt when absent.
caf::expected<std::optional<std::string>>
read_choice(const param_reader& params, std::string_view name,
            std::initializer_list<std::string_view> words) {
  auto value = params.get(name);
  if (!value || !*value || std::ranges::find(words, **value) != words.end())
    return value;
  std::string list;
  for (const auto* word = words.begin(); word != words.end(); ++word) {
    if (word != words.begin())
      list += word + 1 == words.end() ? " or " : ", ";
    list += *word;
  }
  return bad(
    name, std::string{name} + " must be " + list + ", not \"" + **value + "\"");
}

/// Resolves `text` and maps "unknown type" errors to a 400 naming
/// `resourceType`.
caf::expected<resource_type> resolve_type(const resolver_fn& resolve,
                                          std::string_view text) {
  if (text.empty())
    return bad("resourceType", "resourceType must not be empty");
  if (!resolve)
    return bad("resourceType",
               "unknown resource type \"" + std::string{text} + "\"");
  auto rt = resolve(text);
  if (rt)
    return rt;
  const auto& err = rt.error();
  if (err.category() == caf::atom("kws")
      && (err == ec::not_found || err == ec::invalid_argument))
    return bad("resourceType",
               "unknown resource type \"" + std::string{text} + "\"");
  return err;
}

/// The group a client named explicitly ("deployments.apps" names "apps").
std::string named_group(std::string_view text, const resource_type& rt) {
  return text.find('.') != std::string_view::npos ? rt.group : std::string{};
}

/// Calls `fn` with each item of a comma list ("a,b" → "a", "b"; "" → "").
template <class F>
caf::error for_each_item(std::string_view text, F fn) {
  size_t begin = 0;
  while (begin <= text.size()) {
    auto end = std::min(text.find(',', begin), text.size());
    if (auto err = fn(text.substr(begin, end - begin)))
      return err;
    begin = end + 1;
  }
  return {};
}

/// Reads the optional time parameter `name` into `out`.
caf::error read_time(const param_reader& params, const char* name,
                     int64_t& out);

/// Reads `resourceType` (optional) into `resource` and `group`.
caf::error read_type(const param_reader& params, const resolver_fn& resolve,
                     std::string& resource, std::string& group) {
  auto type = params.get("resourceType");
  if (!type)
    return type.error();
  if (!*type)
    return {};
  auto rt = resolve_type(resolve, **type);
  if (!rt)
    return rt.error();
  resource = rt->plural;
  group = named_group(**type, *rt);
  return {};
}

/// Reads `changeClass` (optional) into `mask`.
caf::error read_classes(const param_reader& params, uint8_t& mask);

} // namespace

caf::expected<coverage_query> parse_coverage_query(const http_request& req) {
  param_reader params{req};
  coverage_query result;
  if (auto err = read_range(params, result.start_ns, result.end_ns))
    return err;
  return result;
}

caf::expected<uint8_t> parse_change_classes(std::string_view text) {
  uint8_t mask = 0;
  auto err = for_each_item(text, [&](std::string_view name) -> caf::error {
    auto cls = storage::parse_change_class(name);
    if (!cls)
      return bad("changeClass",
                 "changeClass must be a comma list of spec, status, meta, "
                 "none and event, not \""
                   + std::string{text} + "\"");
    mask |= static_cast<uint8_t>(1u << static_cast<uint8_t>(*cls));
    return {};
  });
  if (err)
    return err;
  return mask;
}

namespace {

caf::error read_time(const param_reader& params, const char* name,
                     int64_t& out) {
  auto value = params.get(name);
  if (!value)
    return value.error();
  if (!*value)
    return {};
  auto t = parse_time(name, **value);
  if (!t)
    return t.error();
  out = *t;
  return {};
}

caf::error read_classes(const param_reader& params, uint8_t& mask) {
  auto classes = params.get("changeClass");
  if (!classes)
    return classes.error();
  if (!*classes)
    return {};
  auto parsed = parse_change_classes(**classes);
  if (!parsed)
    return parsed.error();
  mask = *parsed;
  return {};
}

} // namespace

caf::expected<std::string> parse_pointer(std::string_view parameter,
                                         std::string_view text) {
  if (text.empty() || !storage::is_valid_pointer(text))
    return bad(parameter,
               std::string{parameter}
                 + " must be a JSON Pointer such as "
                   "/spec/replicas, not \""
                 + std::string{text} + "\"");
  return std::string{text};
}

caf::expected<int64_t> parse_time(std::string_view parameter,
                                  std::string_view text) {
  auto result = parse_rfc3339_clamped(text);
  if (!result)
    return bad(parameter,
               std::string{parameter}
                 + " must be an RFC 3339 "
                   "time such as 2026-11-26T10:00:00Z: "
                 + error_detail(result.error()));
  return result;
}

caf::expected<event_query> parse_event_query(const http_request& req,
                                             uint32_t max_limit,
                                             const resolver_fn& resolve) {
  param_reader params{req};
  event_query q;
  if (auto err = read_range(params, q.start_ns, q.end_ns))
    return err;
  if (auto err = read_limit(params, max_limit, q.limit))
    return err;
  struct text_param {
    const char* name;
    std::string* out;
  };
  for (auto [name, out] :
       {text_param{"namespace", &q.ns}, text_param{"resourceName", &q.name},
        text_param{"user", &q.user}, text_param{"uid", &q.uid},
        text_param{"continue", &q.continue_token}}) {
    auto value = params.get(name);
    if (!value)
      return value.error();
    if (*value)
      *out = std::move(**value);
  }
  auto verb = read_choice(params, "verb", {"create", "update", "delete"});
  if (!verb)
    return verb.error();
  if (*verb)
    q.verb = std::move(**verb);
  if (auto err = read_classes(params, q.change_classes))
    return err;
  auto path = params.get("path");
  if (!path)
    return path.error();
  if (*path) {
    auto pointer = parse_pointer("path", **path);
    if (!pointer)
      return pointer.error();
    q.path = std::move(*pointer);
  }
  auto order = read_choice(params, "order", {"asc", "desc"});
  if (!order)
    return order.error();
  if (*order)
    q.descending = **order == "desc";
  auto view = read_choice(params, "view", {"full", "summary"});
  if (!view)
    return view.error();
  if (*view)
    q.summary = **view == "summary";
  if (auto err = read_type(params, resolve, q.resource, q.group))
    return err;
  return q;
}

caf::expected<history_query>
parse_history_query(const http_request& req, std::string_view ns,
                    std::string_view resource_type, std::string_view name,
                    uint32_t max_limit, const resolver_fn& resolve) {
  param_reader params{req};
  history_query q;
  if (name.empty())
    return bad("resourceName", "the path must name an object");
  if (auto err = read_range(params, q.start_ns, q.end_ns))
    return err;
  if (auto err = read_limit(params, max_limit, q.limit))
    return err;
  auto rt = resolve_type(resolve, resource_type);
  if (!rt)
    return rt.error();
  q.ns = std::string{ns};
  q.resource = rt->plural;
  q.group = named_group(resource_type, *rt);
  q.name = std::string{name};
  return q;
}

caf::expected<record_query> parse_record_query(std::string_view id) {
  if (id.size() != 16
      || id.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return bad("id",
               "a record id is 16 lowercase hex digits, not \""
                 + std::string{id} + "\"");
  return record_query{std::string{id}};
}

namespace {

/// The object a diff or blame path names.
caf::expected<object_ref> read_object(std::string_view ns,
                                      std::string_view resource_type,
                                      std::string_view name,
                                      const resolver_fn& resolve) {
  if (name.empty())
    return bad("resourceName", "the path must name an object");
  auto rt = resolve_type(resolve, resource_type);
  if (!rt)
    return rt.error();
  return object_ref{std::string{ns}, rt->plural,
                    named_group(resource_type, *rt), std::string{name}};
}

} // namespace

caf::expected<diff_query> parse_diff_query(const http_request& req,
                                           std::string_view ns,
                                           std::string_view resource_type,
                                           std::string_view name,
                                           const resolver_fn& resolve) {
  param_reader params{req};
  diff_query q;
  for (auto [param, out] :
       {std::pair{"from", &q.from_id}, std::pair{"to", &q.to_id}}) {
    auto value = params.get(param);
    if (!value)
      return value.error();
    if (!*value)
      continue;
    auto id = parse_record_query(**value);
    if (!id)
      return bad(param,
                 std::string{param}
                   + " must be a record id (16 "
                     "lowercase hex digits), not \""
                   + **value + "\"");
    *out = std::move(id->id);
  }
  auto ignore = params.get("ignore");
  if (!ignore)
    return ignore.error();
  if (*ignore) {
    auto err = for_each_item(**ignore, [&](std::string_view item) {
      // `ignore=status` is short for the pointer /status.
      std::string pointer = !item.empty() && item[0] != '/'
        ? "/" + std::string{item}
        : std::string{item};
      auto checked = parse_pointer("ignore", pointer);
      if (!checked)
        return checked.error();
      q.ignore.push_back(std::move(*checked));
      return caf::error{};
    });
    if (err)
      return err;
  }
  auto obj = read_object(ns, resource_type, name, resolve);
  if (!obj)
    return obj.error();
  q.object = std::move(*obj);
  return q;
}

caf::expected<blame_query> parse_blame_query(const http_request& req,
                                             std::string_view ns,
                                             std::string_view resource_type,
                                             std::string_view name,
                                             const resolver_fn& resolve) {
  param_reader params{req};
  blame_query q;
  if (auto err = read_time(params, "at", q.at_ns))
    return err;
  auto obj = read_object(ns, resource_type, name, resolve);
  if (!obj)
    return obj.error();
  q.object = std::move(*obj);
  return q;
}

namespace {

/// The filters and page of a window answer.
caf::error read_window(const param_reader& params, uint32_t max_limit,
                       const resolver_fn& resolve, window_query& q) {
  if (auto err = read_limit(params, max_limit, q.limit))
    return err;
  for (auto [name, out] : {std::pair{"namespace", &q.ns},
                           std::pair{"continue", &q.continue_token}}) {
    auto value = params.get(name);
    if (!value)
      return value.error();
    if (*value)
      *out = std::move(**value);
  }
  return read_type(params, resolve, q.resource, q.group);
}

} // namespace

caf::expected<snapshot_query> parse_snapshot_query(const http_request& req,
                                                   uint32_t max_limit,
                                                   const resolver_fn& resolve) {
  param_reader params{req};
  snapshot_query q;
  if (auto err = read_time(params, "at", q.window.end_ns))
    return err;
  if (auto err = read_window(params, max_limit, resolve, q.window))
    return err;
  return q;
}

caf::expected<changes_query> parse_changes_query(const http_request& req,
                                                 uint32_t max_limit,
                                                 const resolver_fn& resolve) {
  param_reader params{req};
  changes_query q;
  if (auto err = read_range(params, q.window.start_ns, q.window.end_ns))
    return err;
  if (auto err = read_classes(params, q.window.change_classes))
    return err;
  if (auto err = read_window(params, max_limit, resolve, q.window))
    return err;
  return q;
}

} // namespace kws::rest
