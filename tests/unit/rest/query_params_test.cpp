#include "rest/query_params.hpp"

#include "util/errors.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <utility>

using namespace kws;
using namespace kws::rest;

namespace {

constexpr int64_t sec = 1'000'000'000;

http_request make_request(
  std::initializer_list<std::pair<std::string, std::string>> params) {
  http_request req;
  req.method = "GET";
  req.path = "/api/v1/events";
  for (const auto& [k, v] : params) {
    req.query_names.push_back(k);
    req.query_values.push_back(v);
  }
  return req;
}

/// Discovery's resolver in miniature.
caf::expected<resource_type> resolve(std::string_view text) {
  if (text == "pods" || text == "Pod" || text == "pod" || text == "po")
    return resource_type{"", "v1", "Pod", "pods", true};
  if (text == "deployments" || text == "deploy" || text == "deployments.apps")
    return resource_type{"apps", "v1", "Deployment", "deployments", true};
  if (text == "nodes")
    return resource_type{"", "v1", "Node", "nodes", false};
  if (text == "broken")
    return caf::make_error(ec::unavailable, "discovery is not ready");
  return caf::make_error(ec::not_found, "no such resource");
}

/// Asserts that `res` failed with invalid_argument naming `parameter`.
template <class T>
void expect_bad(const caf::expected<T>& res, const std::string& parameter) {
  ASSERT_FALSE(res) << "expected an error for " << parameter;
  EXPECT_EQ(res.error(), ec::invalid_argument) << render(res.error());
  const auto& ctx = res.error().context();
  ASSERT_GE(ctx.size(), 2u);
  EXPECT_EQ(ctx.template get_as<std::string>(0), parameter);
  EXPECT_FALSE(ctx.template get_as<std::string>(1).empty());
}

caf::expected<event_query>
parse(std::initializer_list<std::pair<std::string, std::string>> params,
      uint32_t max_limit = 1000) {
  return parse_event_query(make_request(params), max_limit, resolve);
}

} // namespace

TEST(query_params_test, no_parameters_give_the_defaults) {
  auto q = parse({});
  ASSERT_TRUE(q) << render(q.error());
  EXPECT_EQ(q->start_ns, min_time_ns);
  EXPECT_EQ(q->end_ns, max_time_ns);
  EXPECT_EQ(q->limit, 1000u);
  EXPECT_FALSE(q->descending);
  EXPECT_EQ(q->ns, "");
  EXPECT_EQ(q->resource, "");
  EXPECT_EQ(q->continue_token, "");
}

TEST(query_params_test, reads_every_parameter) {
  auto q = parse({{"start", "2026-11-26T10:00:00Z"},
                  {"end", "2026-11-26T12:00:00.5+01:00"},
                  {"namespace", "default"},
                  {"resourceType", "po"},
                  {"resourceName", "web"},
                  {"verb", "delete"},
                  {"user", "kubelet"},
                  {"uid", "u-1"},
                  {"limit", "50"},
                  {"order", "desc"},
                  {"continue", "abc"}});
  ASSERT_TRUE(q) << render(q.error());
  EXPECT_EQ(q->start_ns, 1'795'687'200 * sec);
  EXPECT_EQ(q->end_ns, 1'795'690'800 * sec + 500'000'000);
  EXPECT_EQ(q->ns, "default");
  EXPECT_EQ(q->resource, "pods");
  EXPECT_EQ(q->group, "");
  EXPECT_EQ(q->name, "web");
  EXPECT_EQ(q->verb, "delete");
  EXPECT_EQ(q->user, "kubelet");
  EXPECT_EQ(q->uid, "u-1");
  EXPECT_EQ(q->limit, 50u);
  EXPECT_TRUE(q->descending);
  EXPECT_EQ(q->continue_token, "abc");
}

TEST(query_params_test, group_narrows_only_when_named) {
  auto plain = parse({{"resourceType", "deploy"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->resource, "deployments");
  EXPECT_EQ(plain->group, "");
  auto named = parse({{"resourceType", "deployments.apps"}});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->resource, "deployments");
  EXPECT_EQ(named->group, "apps");
}

TEST(query_params_test, times_accept_offsets_fractions_and_a_decoded_plus) {
  auto a = parse({{"start", "2026-11-26T12:00:00+02:00"}});
  auto b = parse({{"start", "2026-11-26T12:00:00 02:00"}});
  auto c = parse({{"start", "2026-11-26T10:00:00.000000000Z"}});
  auto d = parse({{"start", "2026-11-26T05:30:00-04:30"}});
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->start_ns, 1'795'687'200 * sec);
  EXPECT_EQ(b->start_ns, a->start_ns);
  EXPECT_EQ(c->start_ns, a->start_ns);
  EXPECT_EQ(d->start_ns, a->start_ns);
}

TEST(query_params_test, bad_times_name_their_parameter) {
  for (const char* bad :
       {"", "yesterday", "2026-11-26", "2026-11-26T10:00:00",
        "2026-11-26T10:00:00+0200", "2026-02-30T10:00:00Z",
        "2026-11-26T25:00:00Z", "2026-11-26T10:00:00.Z",
        "2026-11-26T10:00:00Z ", "1000-13-01T00:00:00Z", "1700000000"}) {
    expect_bad(parse({{"start", bad}}), "start");
    expect_bad(parse({{"end", bad}}), "end");
  }
}

TEST(query_params_test, a_bad_time_says_what_is_wrong_with_it) {
  auto res = parse({{"end", "2026-02-30T10:00:00Z"}});
  ASSERT_FALSE(res);
  EXPECT_NE(error_detail(res.error()).find("the date does not exist"),
            std::string::npos)
    << error_detail(res.error());
}

TEST(query_params_test, times_beyond_the_supported_years_mean_no_bound) {
  auto far = parse(
    {{"start", "1000-01-01T00:00:00Z"}, {"end", "9999-12-31T23:59:59Z"}});
  ASSERT_TRUE(far) << error_detail(far.error());
  auto none = parse({});
  ASSERT_TRUE(none);
  EXPECT_EQ(far->start_ns, none->start_ns);
  EXPECT_EQ(far->end_ns, none->end_ns);
  auto until = parse(
    {{"start", "2026-11-26T10:00:00Z"}, {"end", "9999-12-31T23:59:59Z"}});
  ASSERT_TRUE(until);
  EXPECT_EQ(until->start_ns, 1'795'687'200 * sec);
  EXPECT_EQ(until->end_ns, std::numeric_limits<int64_t>::max());
}

TEST(query_params_test, start_after_end_is_rejected) {
  expect_bad(
    parse({{"start", "2026-11-26T10:00:01Z"}, {"end", "2026-11-26T10:00:00Z"}}),
    "start");
  // Equal bounds are a valid, inclusive range.
  EXPECT_TRUE(parse(
    {{"start", "2026-11-26T10:00:00Z"}, {"end", "2026-11-26T10:00:00Z"}}));
}

TEST(query_params_test, limit_is_capped_or_rejected) {
  EXPECT_EQ(parse({{"limit", "1"}})->limit, 1u);
  EXPECT_EQ(parse({{"limit", "1000"}})->limit, 1000u);
  EXPECT_EQ(parse({{"limit", "1001"}})->limit, 1000u);
  EXPECT_EQ(parse({{"limit", "99999999999999999999999"}})->limit, 1000u);
  EXPECT_EQ(parse({{"limit", "007"}})->limit, 7u);
  EXPECT_EQ(parse({{"limit", "600"}}, 500)->limit, 500u);
  for (const char* bad :
       {"0", "000", "-1", "-0", "abc", "", "1.5", "+5", "5 ", "0x10", "1e3"})
    expect_bad(parse({{"limit", bad}}), "limit");
}

TEST(query_params_test, verb_and_order_must_be_known) {
  for (const char* v : {"create", "update", "delete"})
    EXPECT_EQ(parse({{"verb", v}})->verb, v);
  for (const char* bad : {"get", "CREATE", "", "remove"})
    expect_bad(parse({{"verb", bad}}), "verb");
  EXPECT_FALSE(parse({{"order", "asc"}})->descending);
  for (const char* bad : {"ascending", "DESC", ""})
    expect_bad(parse({{"order", bad}}), "order");
}

TEST(query_params_test, view_is_full_or_summary) {
  EXPECT_FALSE(parse({})->summary);
  EXPECT_FALSE(parse({{"view", "full"}})->summary);
  EXPECT_TRUE(parse({{"view", "summary"}})->summary);
  for (const char* bad : {"light", "SUMMARY", ""})
    expect_bad(parse({{"view", bad}}), "view");
}

TEST(query_params_test, a_bad_choice_names_the_words_and_the_value) {
  auto sentence = [](const caf::expected<event_query>& res) {
    return res ? std::string{} : res.error().context().get_as<std::string>(1);
  };
  EXPECT_EQ(sentence(parse({{"verb", "get"}})),
            "verb must be create, update or delete, not \"get\"");
  EXPECT_EQ(sentence(parse({{"order", "up"}})),
            "order must be asc or desc, not \"up\"");
  EXPECT_EQ(sentence(parse({{"view", ""}})),
            "view must be full or summary, not \"\"");
}

TEST(query_params_test, unknown_resource_type_is_a_400_naming_it) {
  expect_bad(parse({{"resourceType", "gizmos"}}), "resourceType");
  expect_bad(parse({{"resourceType", ""}}), "resourceType");
  // Discovery failing is not the client's fault: passed on as is.
  auto down = parse({{"resourceType", "broken"}});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), ec::unavailable);
}

TEST(query_params_test, repeated_parameters_are_rejected) {
  expect_bad(parse({{"namespace", "a"}, {"namespace", "b"}}), "namespace");
  expect_bad(parse({{"limit", "5"}, {"limit", "5"}}), "limit");
  expect_bad(parse({{"verb", "create"}, {"verb", "delete"}}), "verb");
}

TEST(query_params_test, unknown_parameters_are_ignored) {
  auto q = parse({{"pretty", "true"}, {"foo", "1"}, {"foo", "2"}});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->limit, 1000u);
}

TEST(query_params_test, empty_text_filters_mean_absent) {
  auto q = parse({{"namespace", ""}, {"user", ""}, {"continue", ""}});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->ns, "");
  EXPECT_EQ(q->continue_token, "");
}

TEST(query_params_test, history_reads_path_and_range) {
  auto req = make_request({{"start", "2026-11-26T10:00:00Z"},
                           {"limit", "5000"},
                           {"verb", "ignored-here"}});
  auto q = parse_history_query(req, "default", "po", "web", 1000, resolve);
  ASSERT_TRUE(q) << render(q.error());
  EXPECT_EQ(q->ns, "default");
  EXPECT_EQ(q->resource, "pods");
  EXPECT_EQ(q->group, "");
  EXPECT_EQ(q->name, "web");
  EXPECT_EQ(q->start_ns, 1'795'687'200 * sec);
  EXPECT_EQ(q->end_ns, max_time_ns);
  EXPECT_EQ(q->limit, 1000u);
  auto cluster = parse_history_query(make_request({}), "", "nodes", "node-1",
                                     1000, resolve);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->ns, "");
  auto grouped = parse_history_query(make_request({}), "default",
                                     "deployments.apps", "web", 1000, resolve);
  ASSERT_TRUE(grouped);
  EXPECT_EQ(grouped->group, "apps");
}

TEST(query_params_test, history_rejects_bad_input) {
  expect_bad(parse_history_query(make_request({}), "default", "gizmos", "x",
                                 1000, resolve),
             "resourceType");
  expect_bad(parse_history_query(make_request({{"limit", "0"}}), "default",
                                 "pods", "x", 1000, resolve),
             "limit");
  expect_bad(parse_history_query(make_request({{"end", "soon"}}), "default",
                                 "pods", "x", 1000, resolve),
             "end");
  expect_bad(
    parse_history_query(make_request({}), "default", "pods", "", 1000, resolve),
    "resourceName");
  expect_bad(parse_history_query(make_request({}), "default", "pods", "x", 1000,
                                 resolver_fn{}),
             "resourceType");
}

TEST(query_params_test, coverage_reads_its_window) {
  auto all = parse_coverage_query(make_request({}));
  ASSERT_TRUE(all) << render(all.error());
  EXPECT_EQ(all->start_ns, coverage_query{}.start_ns);
  EXPECT_EQ(all->end_ns, coverage_query{}.end_ns);
  auto window = parse_coverage_query(make_request(
    {{"start", "2026-11-26T10:00:00Z"}, {"end", "2026-11-26T10:05:00Z"}}));
  ASSERT_TRUE(window) << render(window.error());
  EXPECT_EQ(window->end_ns - window->start_ns, 300 * sec);
  expect_bad(parse_coverage_query(make_request({{"end", "soon"}})), "end");
  expect_bad(
    parse_coverage_query(make_request(
      {{"start", "2026-11-26T10:00:01Z"}, {"end", "2026-11-26T10:00:00Z"}})),
    "start");
}
