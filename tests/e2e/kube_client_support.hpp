// Helpers the kube client e2e tests share: the state file of the control
// plane (tests/cluster), blocking wrappers around the asynchronous client,
// and a recorder of what a reflector (the service's own, run in a small
// actor) delivers. Every wait is bounded.
#pragma once

#include "actors/reflector_actor.hpp"
#include "kube/client.hpp"
#include "kube/client_lister_watcher.hpp"
#include "kube/discovery.hpp"
#include "kube/wire.hpp"
#include "messages/type_ids.hpp"

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace kws::kube::e2e {

using namespace std::chrono_literals;

inline constexpr auto wait_limit = 60s;

// -- cluster state ------------------------------------------------------------

struct cluster_state {
  std::string api_url;
  std::string ca_file;
  std::string admin_cert_file;
  std::string admin_key_file;
  std::string admin_token;
  std::string admin_token_file;
  std::string kubeconfig;
  std::string sa_token_dir;
  std::string sa_namespace;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline caf::expected<cluster_state> read_state() {
  const char* path = std::getenv("KWS_CLUSTER_STATE");
  if (path == nullptr || *path == '\0')
    return caf::make_error(ec::config_error,
                           "KWS_CLUSTER_STATE is not set: start the cluster "
                           "with tests/cluster/up and export "
                           "KWS_CLUSTER_STATE=<dir>/state.json");
  auto text = slurp(path);
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError() || !doc.IsObject())
    return caf::make_error(ec::config_error,
                           fmt::format("cannot read cluster state {}", path));
  auto str = [&](const rapidjson::Value& obj, const char* key) {
    auto i = obj.FindMember(key);
    return i != obj.MemberEnd() && i->value.IsString()
      ? std::string{i->value.GetString()}
      : std::string{};
  };
  cluster_state s;
  s.api_url = str(doc, "api_url");
  s.ca_file = str(doc, "ca_file");
  s.admin_cert_file = str(doc, "admin_cert_file");
  s.admin_key_file = str(doc, "admin_key_file");
  s.admin_token = str(doc, "admin_token");
  s.admin_token_file = str(doc, "admin_token_file");
  s.kubeconfig = str(doc, "kubeconfig");
  if (auto sa = doc.FindMember("service_account");
      sa != doc.MemberEnd() && sa->value.IsObject()) {
    s.sa_token_dir = str(sa->value, "token_dir");
    s.sa_namespace = str(sa->value, "namespace");
  }
  if (str(doc, "status") != "ready" || s.api_url.empty())
    return caf::make_error(ec::config_error,
                           fmt::format("cluster state {} is not ready", path));
  return s;
}

// -- sync helpers -------------------------------------------------------------

inline caf::expected<std::string> call(client& c, const std::string& method,
                                       const std::string& path,
                                       const std::string& body = {}) {
  auto done = std::make_shared<std::promise<caf::expected<std::string>>>();
  auto fut = done->get_future();
  c.request(method, path, body, [done](caf::expected<std::string> x) {
    done->set_value(std::move(x));
  });
  if (fut.wait_for(wait_limit) != std::future_status::ready)
    return caf::make_error(ec::unavailable,
                           fmt::format("{} {} did not finish", method, path));
  return fut.get();
}

inline caf::expected<std::vector<api_resource_info>>
discover_sync(const std::shared_ptr<client>& c) {
  auto done = std::make_shared<
    std::promise<caf::expected<std::vector<api_resource_info>>>>();
  auto fut = done->get_future();
  discover_api_resources(c, [done](auto x) { done->set_value(std::move(x)); });
  if (fut.wait_for(wait_limit) != std::future_status::ready)
    return caf::make_error(ec::unavailable, "discovery did not finish");
  return fut.get();
}

inline std::string json_string(const std::string& json, const char* a,
                               const char* b = nullptr) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (!doc.IsObject() || !doc.HasMember(a))
    return {};
  const rapidjson::Value* v = &doc[a];
  if (b != nullptr) {
    if (!v->IsObject() || !v->HasMember(b))
      return {};
    v = &(*v)[b];
  }
  return v->IsString() ? v->GetString() : "";
}

inline std::string random_suffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

/// Polls `f` every 200 ms until it returns true or the limit passes.
template <class F>
bool eventually(F f, std::chrono::seconds limit = wait_limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f())
      return true;
    std::this_thread::sleep_for(200ms);
  }
  return f();
}

// -- reflector recorder -------------------------------------------------------

/// Records what a reflector delivers; acks automatically unless told not to.
struct recorder : std::enable_shared_from_this<recorder> {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<kws::list_result> lists;
  std::vector<watch_event> events;
  std::vector<caf::error> errors;
  /// Deliveries of events, whatever namespace their events are in.
  size_t deliveries = 0;
  /// The actor running the reflector, and its actor system.
  caf::actor r;
  caf::actor_system* sys = nullptr;
  /// Its transport: released once the actor is gone.
  std::weak_ptr<lister_watcher> source;
  bool auto_ack = true;
  bool stopped = false;
  bool callback_after_stop = false;
  /// Only events of objects in this namespace are kept ("" = all).
  std::string ns;

  /// Lists and watches `type` through `c` from `resume_rv`.
  void start(caf::actor_system& actors, std::shared_ptr<client> c,
             kws::resource_type type, std::string resume_rv = "",
             reflector_settings settings = {}) {
    sys = &actors;
    auto lw = make_client_lister_watcher(std::move(c), type, selection{});
    source = lw;
    r = actors.spawn(kws::reflector_actor, lw, std::move(type), settings,
                     handlers(), auto_ack, std::move(resume_rv));
  }

  kws::reflector_handlers handlers() {
    auto self = shared_from_this();
    kws::reflector_handlers cb;
    cb.on_list = [self](kws::list_result x) {
      std::lock_guard guard{self->mtx};
      self->callback_after_stop |= self->stopped;
      self->lists.push_back(std::move(x));
      self->cv.notify_all();
    };
    cb.on_events = [self](std::vector<watch_event> xs, int64_t) {
      std::lock_guard guard{self->mtx};
      self->callback_after_stop |= self->stopped;
      ++self->deliveries;
      for (auto& x : xs) {
        if (!self->ns.empty() && x.type != watch_event_type::bookmark) {
          auto meta = parse_object_meta(x.object);
          if (!meta || meta->namespace_ != self->ns)
            continue;
        }
        self->events.push_back(std::move(x));
      }
      self->cv.notify_all();
    };
    cb.on_error = [self](const caf::error& err) {
      std::lock_guard guard{self->mtx};
      self->callback_after_stop |= self->stopped;
      self->errors.push_back(err);
      self->cv.notify_all();
    };
    return cb;
  }

  /// Confirms the oldest delivery.
  void ack() { caf::anon_send(r, kws::atom::ok_v, uint64_t{1}); }

  template <class Pred>
  bool wait(Pred pred, std::chrono::seconds limit = wait_limit) {
    std::unique_lock guard{mtx};
    return cv.wait_for(guard, limit, [&] { return pred(*this); });
  }

  /// Events of one object (namespace/name), in order.
  std::vector<watch_event> of(const std::string& key) {
    std::vector<watch_event> result;
    for (const auto& e : events)
      if (auto meta = parse_object_meta(e.object);
          meta && meta->key() == key && e.type != watch_event_type::bookmark)
        result.push_back(e);
    return result;
  }

  /// Stops the reflector and waits until its actor is gone.
  void stop() {
    if (!r)
      return;
    caf::scoped_actor self{*sys};
    self->send_exit(r, caf::exit_reason::user_shutdown);
    self->wait_for(r);
    r = nullptr;
    std::lock_guard guard{mtx};
    stopped = true;
  }
};

inline bool has_type(const std::vector<watch_event>& xs, watch_event_type t) {
  return std::any_of(xs.begin(), xs.end(),
                     [&](const watch_event& e) { return e.type == t; });
}

inline bool has_error(const std::vector<caf::error>& xs, ec code) {
  return std::any_of(xs.begin(), xs.end(),
                     [&](const caf::error& e) { return e == code; });
}

inline const kws::resource_type configmaps{"", "v1", "ConfigMap", "configmaps",
                                           true};

} // namespace kws::kube::e2e
