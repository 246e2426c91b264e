#include "kube/selector.hpp"

#include "kube/wire.hpp"
#include "util/errors.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace kws::kube {

namespace {

caf::error selector_error(std::string_view text, std::string what) {
  return caf::make_error(ec::invalid_argument,
                         "'" + std::string{text} + "': " + std::move(what));
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && is_space(x.front()))
    x.remove_prefix(1);
  while (!x.empty() && is_space(x.back()))
    x.remove_suffix(1);
  return x;
}

/// Label keys: an optional DNS prefix and `/`, then a name of letters,
/// digits, `-`, `_`, `.`. Values: the same without `/`, possibly empty.
bool valid_token(std::string_view x, bool key) {
  if (x.empty() || x.size() > 316)
    return !key && x.empty();
  return std::all_of(x.begin(), x.end(), [key](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
      || c == '.' || (key && c == '/');
  });
}

/// Splits at commas outside parentheses.
caf::expected<std::vector<std::string_view>>
split_terms(std::string_view text) {
  std::vector<std::string_view> result;
  int depth = 0;
  size_t begin = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      auto term = trim(text.substr(begin, i - begin));
      if (term.empty())
        return selector_error(
          text, "empty requirement at offset " + std::to_string(begin));
      result.push_back(term);
      begin = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      if (--depth < 0)
        return selector_error(text, "unbalanced ')'");
    }
  }
  if (depth != 0)
    return selector_error(text, "unbalanced '('");
  return result;
}

caf::expected<label_requirement> parse_set_term(std::string_view text,
                                                std::string_view key,
                                                std::string_view rest) {
  label_requirement req;
  req.key = std::string{key};
  if (rest.starts_with("notin")) {
    req.operation = label_requirement::op::not_in;
    rest.remove_prefix(5);
  } else if (rest.starts_with("in")) {
    req.operation = label_requirement::op::in;
    rest.remove_prefix(2);
  } else {
    return selector_error(text,
                          "expected =, ==, !=, in, notin, > or < after '"
                            + std::string{key} + "'");
  }
  rest = trim(rest);
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')')
    return selector_error(text, "expected a parenthesized list of values");
  rest = rest.substr(1, rest.size() - 2);
  while (true) {
    auto comma = rest.find(',');
    auto value = trim(rest.substr(0, comma));
    if (!valid_token(value, false) || value.empty())
      return selector_error(text,
                            "invalid value '" + std::string{value}
                              + "' in the list of '" + req.key + "'");
    req.values.emplace_back(value);
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  return req;
}

caf::expected<label_requirement> parse_label_term(std::string_view selector,
                                                  std::string_view term) {
  label_requirement req;
  if (term.front() == '!') {
    auto key = trim(term.substr(1));
    if (!valid_token(key, true))
      return selector_error(selector,
                            "invalid label key '" + std::string{key} + "'");
    req.key = std::string{key};
    req.operation = label_requirement::op::not_exists;
    return req;
  }
  auto key_end = term.find_first_of("=!<> \t");
  auto key = term.substr(0, key_end);
  if (!valid_token(key, true))
    return selector_error(selector,
                          "invalid label key '" + std::string{key} + "'");
  req.key = std::string{key};
  if (key_end == std::string_view::npos) {
    req.operation = label_requirement::op::exists;
    return req;
  }
  auto rest = trim(term.substr(key_end));
  using op = label_requirement::op;
  std::string_view value;
  if (rest.starts_with("==") || rest.starts_with("!=")) {
    req.operation = rest[0] == '!' ? op::not_equals : op::equals;
    value = trim(rest.substr(2));
  } else if (rest.starts_with("=")) {
    req.operation = op::equals;
    value = trim(rest.substr(1));
  } else if (rest.starts_with(">") || rest.starts_with("<")) {
    req.operation = rest[0] == '>' ? op::greater : op::less;
    value = trim(rest.substr(1));
    int64_t n = 0;
    auto [ptr, err]
      = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || err != std::errc{}
        || ptr != value.data() + value.size())
      return selector_error(
        selector, "'" + req.key + "' must be compared with an integer");
  } else {
    return parse_set_term(selector, key, rest);
  }
  if (!valid_token(value, false))
    return selector_error(selector,
                          "invalid label value '" + std::string{value} + "'");
  req.values.emplace_back(value);
  return req;
}

/// The value at a dotted path of a JSON object, as the apiserver compares
/// it: strings as they are, booleans and numbers as written, missing "".
std::string field_value(const rapidjson::Value& object, std::string_view path) {
  const rapidjson::Value* at = &object;
  while (!path.empty()) {
    auto dot = path.find('.');
    auto name = path.substr(0, dot);
    if (!at->IsObject())
      return {};
    auto it = at->FindMember(rapidjson::Value{
      name.data(), static_cast<rapidjson::SizeType>(name.size())});
    if (it == at->MemberEnd())
      return {};
    at = &it->value;
    path = dot == std::string_view::npos ? std::string_view{}
                                         : path.substr(dot + 1);
  }
  if (at->IsString())
    return {at->GetString(), at->GetStringLength()};
  if (at->IsBool())
    return at->GetBool() ? "true" : "false";
  if (at->IsInt64())
    return std::to_string(at->GetInt64());
  return {};
}

} // namespace

/// Both selector kinds: trim, split into terms, parse each with
/// `parse_one(text, term)`; the first bad term fails the whole selector.
template <class Requirement, class ParseOne>
caf::expected<std::vector<Requirement>> parse_terms(std::string_view text,
                                                    ParseOne parse_one) {
  std::vector<Requirement> result;
  if (trim(text).empty())
    return result;
  auto terms = split_terms(text);
  if (!terms)
    return terms.error();
  for (auto term : *terms) {
    auto req = parse_one(text, term);
    if (!req)
      return req.error();
    result.push_back(std::move(*req));
  }
  return result;
}

caf::expected<std::vector<label_requirement>>
parse_label_selector(std::string_view text) {
  return parse_terms<label_requirement>(text, parse_label_term);
}

bool matches(const std::vector<label_requirement>& selector,
             const std::map<std::string, std::string>& labels) {
  using op = label_requirement::op;
  for (const auto& req : selector) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    auto in_values = [&] {
      return has
        && std::find(req.values.begin(), req.values.end(), it->second)
        != req.values.end();
    };
    auto compare = [&](bool greater) {
      int64_t have = 0;
      int64_t want = 0;
      if (!has || req.values.empty())
        return false;
      const auto& h = it->second;
      const auto& w = req.values.front();
      auto [p1, e1] = std::from_chars(h.data(), h.data() + h.size(), have);
      auto [p2, e2] = std::from_chars(w.data(), w.data() + w.size(), want);
      if (e1 != std::errc{} || p1 != h.data() + h.size() || e2 != std::errc{})
        return false;
      return greater ? have > want : have < want;
    };
    bool ok = false;
    switch (req.operation) {
      case op::equals:
      case op::in: ok = in_values(); break;
      case op::not_equals:
      case op::not_in: ok = !in_values(); break;
      case op::exists: ok = has; break;
      case op::not_exists: ok = !has; break;
      case op::greater: ok = compare(true); break;
      case op::less: ok = compare(false); break;
    }
    if (!ok)
      return false;
  }
  return true;
}

caf::expected<std::vector<field_requirement>>
parse_field_selector(std::string_view text) {
  return parse_terms<field_requirement>(
    text,
    [](std::string_view selector,
       std::string_view term) -> caf::expected<field_requirement> {
      field_requirement req;
      auto eq = term.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return selector_error(selector,
                              "expected field=value or field!=value, got '"
                                + std::string{term} + "'");
      auto path_end = eq;
      if (term[eq - 1] == '!') {
        req.equals = false;
        --path_end;
      }
      auto value_begin = eq + 1;
      if (req.equals && value_begin < term.size() && term[value_begin] == '=')
        ++value_begin;
      auto path = trim(term.substr(0, path_end));
      if (!valid_token(path, false) || path.empty())
        return selector_error(selector,
                              "invalid field '" + std::string{path} + "'");
      req.path = std::string{path};
      req.value = std::string{trim(term.substr(value_begin))};
      return req;
    });
}

std::string selection::collection_path(const resource_type& type) const {
  if (single_namespace.empty() || !type.namespaced)
    return type.collection_path();
  return (type.group.empty() ? "/api/" : "/apis/" + type.group + "/")
    + type.version + "/namespaces/" + single_namespace + "/" + type.plural;
}

std::string selection::query() const {
  std::string result;
  if (!label_selector.empty())
    result += "&labelSelector=" + url_encode(label_selector);
  if (!field_selector.empty())
    result += "&fieldSelector=" + url_encode(field_selector);
  return result;
}

bool selection::selects_namespace(std::string_view ns) const {
  auto has = [ns](const std::vector<std::string>& xs) {
    return std::find(xs.begin(), xs.end(), ns) != xs.end();
  };
  if (!single_namespace.empty())
    return ns == single_namespace;
  if (has(exclude_namespaces))
    return false;
  return namespaces.empty() || has(namespaces);
}

caf::expected<selection> make_selection(const resource_type& type,
                                        const watch_filter& filter) {
  selection result;
  auto labels = parse_label_selector(filter.label_selector);
  if (!labels)
    return labels.error();
  auto fields = parse_field_selector(filter.field_selector);
  if (!fields)
    return fields.error();
  result.labels = std::move(*labels);
  result.fields = std::move(*fields);
  result.label_selector = filter.label_selector;
  result.field_selector = filter.field_selector;
  if (!type.namespaced)
    return result;
  auto excluded = [&](const std::string& ns) {
    return std::find(filter.exclude_namespaces.begin(),
                     filter.exclude_namespaces.end(), ns)
      != filter.exclude_namespaces.end();
  };
  std::vector<std::string> included;
  for (const auto& ns : filter.namespaces)
    if (!excluded(ns))
      included.push_back(ns);
  if (!filter.namespaces.empty() && included.empty())
    return caf::make_error(ec::invalid_argument,
                           "every namespace of `namespaces` is excluded");
  if (included.size() == 1) {
    // One namespace: the namespaced path, which a namespaced Role allows.
    result.single_namespace = included.front();
    return result;
  }
  result.namespaces = std::move(included);
  result.exclude_namespaces = filter.exclude_namespaces;
  if (result.namespaces.empty()) {
    // Exclusions only: the apiserver leaves them out of the stream.
    for (const auto& ns : filter.exclude_namespaces) {
      if (!result.field_selector.empty())
        result.field_selector += ',';
      result.field_selector += "metadata.namespace!=" + ns;
    }
  }
  return result;
}

bool selects_object(const selection& sel, std::string_view json) {
  if (!sel.checks_objects())
    return true;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return false;
  if ((!sel.namespaces.empty() || !sel.exclude_namespaces.empty())
      && !sel.selects_namespace(field_value(doc, "metadata.namespace")))
    return false;
  for (const auto& req : sel.fields)
    if ((field_value(doc, req.path) == req.value) != req.equals)
      return false;
  if (sel.labels.empty())
    return true;
  std::map<std::string, std::string> labels;
  if (auto md = doc.FindMember("metadata");
      md != doc.MemberEnd() && md->value.IsObject())
    if (auto ls = md->value.FindMember("labels");
        ls != md->value.MemberEnd() && ls->value.IsObject())
      for (const auto& kv : ls->value.GetObject())
        if (kv.value.IsString())
          labels.emplace(kv.name.GetString(), kv.value.GetString());
  return matches(sel.labels, labels);
}

} // namespace kws::kube
