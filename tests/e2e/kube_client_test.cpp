// The kube client against the real control plane of tests/cluster: TLS and
// every credential kind, discovery (with a CRD created here), paged lists,
// watches, a forced 410 and an apiserver that goes away mid-watch.
//
// Reads the cluster's state file from KWS_CLUSTER_STATE and fails (never
// skips) without it. Every wait is bounded.
#include "kube/client.hpp"
#include "kube/discovery.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/reflector.hpp"
#include "kube/resolver.hpp"
#include "kube/wire.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace kws::kube;
using namespace std::chrono_literals;
using kws::ec;
using kws::watch_event;
using kws::watch_event_type;

namespace {

constexpr auto wait_limit = 60s;

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

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

caf::expected<cluster_state> read_state() {
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

caf::expected<std::string> call(client& c, const std::string& method,
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

caf::expected<std::vector<api_resource_info>>
discover_sync(const std::shared_ptr<client>& c) {
  auto done = std::make_shared<
    std::promise<caf::expected<std::vector<api_resource_info>>>>();
  auto fut = done->get_future();
  discover_api_resources(c, [done](auto x) { done->set_value(std::move(x)); });
  if (fut.wait_for(wait_limit) != std::future_status::ready)
    return caf::make_error(ec::unavailable, "discovery did not finish");
  return fut.get();
}

std::string json_string(const std::string& json, const char* a,
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

std::string random_suffix() {
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
  /// `on_events` calls, whatever namespace their events are in.
  size_t deliveries = 0;
  std::shared_ptr<reflector> r;
  bool auto_ack = true;
  bool stopped = false;
  bool callback_after_stop = false;
  /// Only events of objects in this namespace are kept ("" = all).
  std::string ns;

  reflector_callbacks callbacks() {
    auto self = shared_from_this();
    reflector_callbacks cb;
    cb.on_list = [self](kws::list_result x) {
      std::lock_guard guard{self->mtx};
      self->callback_after_stop |= self->stopped;
      self->lists.push_back(std::move(x));
      if (self->auto_ack)
        self->r->ack();
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
      if (self->auto_ack)
        self->r->ack();
      self->cv.notify_all();
    };
    cb.on_error = [self](caf::error err) {
      std::lock_guard guard{self->mtx};
      self->callback_after_stop |= self->stopped;
      self->errors.push_back(std::move(err));
      self->cv.notify_all();
    };
    return cb;
  }

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

  void stop() {
    r->stop();
    std::lock_guard guard{mtx};
    stopped = true;
  }
};

bool has_type(const std::vector<watch_event>& xs, watch_event_type t) {
  return std::any_of(xs.begin(), xs.end(),
                     [&](const watch_event& e) { return e.type == t; });
}

bool has_error(const std::vector<caf::error>& xs, ec code) {
  return std::any_of(xs.begin(), xs.end(),
                     [&](const caf::error& e) { return e == code; });
}

const kws::resource_type configmaps{"", "v1", "ConfigMap", "configmaps", true};

// -- a TCP proxy that can go down ---------------------------------------------

/// Forwards 127.0.0.1:<port> to the apiserver. `down()` closes the listener
/// and every connection (the apiserver vanished); `up()` listens again on
/// the same port (it came back).
class tcp_proxy {
public:
  tcp_proxy(std::string host, std::string port)
      : upstream_host_(std::move(host)), upstream_port_(std::move(port)) {
    work_.emplace(ioc_.get_executor());
    thread_ = std::thread{[this] { ioc_.run(); }};
    up();
  }

  ~tcp_proxy() {
    try {
      down();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the proxy did not stop: " << e.what();
    }
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }

  void up() {
    run_sync([this] {
      acceptor_.emplace(ioc_);
      boost::asio::ip::tcp::endpoint ep{
        boost::asio::ip::make_address("127.0.0.1"), port_};
      acceptor_->open(ep.protocol());
      acceptor_->set_option(boost::asio::socket_base::reuse_address{true});
      acceptor_->bind(ep);
      acceptor_->listen();
      port_ = acceptor_->local_endpoint().port();
      accept();
    });
  }

  void down() {
    run_sync([this] {
      if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
      }
      for (auto& weak : sockets_)
        if (auto s = weak.lock()) {
          boost::system::error_code ec;
          s->close(ec);
        }
      sockets_.clear();
    });
  }

private:
  using socket_ptr = std::shared_ptr<boost::asio::ip::tcp::socket>;

  template <class F>
  void run_sync(F f) {
    std::promise<void> done;
    boost::asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void accept() {
    auto down_side = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
    acceptor_->async_accept(
      *down_side, [this, down_side](boost::system::error_code ec) {
        if (ec)
          return;
        auto up_side = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
        sockets_.push_back(down_side);
        sockets_.push_back(up_side);
        boost::asio::ip::tcp::resolver resolver{ioc_};
        boost::system::error_code rec;
        auto results = resolver.resolve(upstream_host_, upstream_port_, rec);
        if (!rec)
          boost::asio::connect(*up_side, results, rec);
        if (rec) {
          down_side->close(rec);
        } else {
          pump(down_side, up_side);
          pump(up_side, down_side);
        }
        if (acceptor_)
          accept();
      });
  }

  void pump(socket_ptr from, socket_ptr to) {
    auto buf = std::make_shared<std::array<char, 65536>>();
    from->async_read_some(
      boost::asio::buffer(*buf),
      [this, from, to, buf](boost::system::error_code ec, size_t n) {
        if (ec) {
          boost::system::error_code ignore;
          to->shutdown(boost::asio::socket_base::shutdown_send, ignore);
          return;
        }
        boost::asio::async_write(
          *to, boost::asio::buffer(*buf, n),
          [this, from, to, buf](boost::system::error_code ec, size_t) {
            if (!ec)
              pump(from, to);
          });
      });
  }

  std::string upstream_host_;
  std::string upstream_port_;
  boost::asio::io_context ioc_;
  std::optional<
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
    work_;
  std::thread thread_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::list<std::weak_ptr<boost::asio::ip::tcp::socket>> sockets_;
  uint16_t port_ = 0;
};

// -- fixture ------------------------------------------------------------------

class kube_e2e : public ::testing::Test {
protected:
  void SetUp() override {
    auto s = read_state();
    ASSERT_TRUE(s) << kws::render(s.error());
    state = std::move(*s);
    auto c = client::make(admin_cert_config());
    ASSERT_TRUE(c) << kws::render(c.error());
    admin = std::move(*c);
    ns = "kws-kube-e2e-" + random_suffix();
    auto created = call(
      *admin, "POST", "/api/v1/namespaces",
      fmt::format(
        R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})",
        ns));
    ASSERT_TRUE(created) << kws::render(created.error());
  }

  void TearDown() override {
    for (auto& r : recorders)
      r->stop();
    for (auto& r : recorders)
      EXPECT_FALSE(r->callback_after_stop);
    if (admin) {
      if (!crd_name.empty())
        (void)call(*admin, "DELETE",
                   "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                     + crd_name);
      (void)call(*admin, "DELETE", "/api/v1/namespaces/" + ns);
      admin->stop();
    }
    for (auto& c : extra_clients)
      c->stop();
  }

  /// Host and port of the apiserver URL.
  std::pair<std::string, std::string> api_host_port() const {
    auto rest = state.api_url.substr(std::string{"https://"}.size());
    auto colon = rest.rfind(':');
    return {rest.substr(0, colon), rest.substr(colon + 1)};
  }

  cluster_config admin_cert_config() const {
    cluster_config cfg;
    cfg.server = state.api_url;
    cfg.ca_pem = slurp(state.ca_file);
    cfg.ca_file = state.ca_file;
    cfg.client_cert_pem = slurp(state.admin_cert_file);
    cfg.client_key_pem = slurp(state.admin_key_file);
    cfg.source = "e2e admin certificate";
    return cfg;
  }

  cluster_config token_config(const std::string& token) const {
    cluster_config cfg;
    cfg.server = state.api_url;
    cfg.ca_pem = slurp(state.ca_file);
    cfg.token = token;
    cfg.source = "e2e token";
    return cfg;
  }

  std::shared_ptr<client> make_client(cluster_config cfg) {
    auto c = client::make(std::move(cfg));
    EXPECT_TRUE(c) << kws::render(c.error());
    if (!c)
      return nullptr;
    extra_clients.push_back(*c);
    return *c;
  }

  std::shared_ptr<recorder> watch(std::shared_ptr<client> c,
                                  kws::resource_type type,
                                  std::string resume_rv = "",
                                  reflector_options opts = {}) {
    auto rec = std::make_shared<recorder>();
    rec->ns = ns;
    opts.seed = 1;
    rec->r
      = reflector::make(std::move(c), std::move(type), opts, rec->callbacks());
    recorders.push_back(rec);
    rec->r->start(std::move(resume_rv));
    return rec;
  }

  std::string configmap(const std::string& name, const std::string& value) {
    return fmt::format(
      R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{}","namespace":"{}"}},"data":{{"v":"{}"}}}})",
      name, ns, value);
  }

  std::string cm_path(const std::string& name = {}) const {
    auto base = fmt::format("/api/v1/namespaces/{}/configmaps", ns);
    return name.empty() ? base : base + "/" + name;
  }

  /// Creates a namespaced CRD `widgets<sfx>.e2e<sfx>.kws.test` (kind
  /// `Widget<sfx>`, short name `wdg<sfx>`) and waits until it is Established.
  /// Every name is unique, so other CRDs in the shared cluster cannot make
  /// an unqualified name ambiguous. Returns its resource type.
  kws::resource_type create_crd() {
    crd_suffix = random_suffix();
    auto group = "e2e" + crd_suffix + ".kws.test";
    crd_name = "widgets" + crd_suffix + "." + group;
    auto body
      = fmt::format(R"({{
      "apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{{"name":"{name}"}},
      "spec":{{"group":"{group}","scope":"Namespaced",
        "names":{{"plural":"widgets{sfx}","singular":"widget{sfx}","kind":"Widget{sfx}","shortNames":["wdg{sfx}"]}},
        "versions":[{{"name":"v1","served":true,"storage":true,
          "schema":{{"openAPIV3Schema":{{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}}]}}}})",
                    fmt::arg("name", crd_name), fmt::arg("group", group),
                    fmt::arg("sfx", crd_suffix));
    auto created
      = call(*admin, "POST",
             "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body);
    EXPECT_TRUE(created) << kws::render(created.error());
    auto established = eventually([&] {
      auto crd = call(*admin, "GET",
                      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                        + crd_name);
      return crd
        && crd->find(R"("type":"Established","status":"True")")
        != std::string::npos;
    });
    EXPECT_TRUE(established) << crd_name << " never became Established";
    return {group, "v1", "Widget" + crd_suffix, "widgets" + crd_suffix, true};
  }

  std::string crd_suffix;

  cluster_state state;
  std::shared_ptr<client> admin;
  std::vector<std::shared_ptr<client>> extra_clients;
  std::vector<std::shared_ptr<recorder>> recorders;
  std::string ns;
  std::string crd_name;
};

} // namespace

// -- authentication and TLS ---------------------------------------------------

TEST_F(kube_e2e, tls_with_client_certificate) {
  auto version = call(*admin, "GET", "/version");
  ASSERT_TRUE(version) << kws::render(version.error());
  EXPECT_FALSE(json_string(*version, "gitVersion").empty());
  auto nss = call(*admin, "GET", "/api/v1/namespaces");
  ASSERT_TRUE(nss) << kws::render(nss.error());
  EXPECT_NE(nss->find(ns), std::string::npos);
}

TEST_F(kube_e2e, tls_server_name_and_hostname_verification) {
  auto cfg = admin_cert_config();
  cfg.tls_server_name = "kubernetes.default.svc";
  auto c = make_client(cfg);
  ASSERT_TRUE(c);
  EXPECT_TRUE(call(*c, "GET", "/version"));
  cfg.tls_server_name = "not-the-apiserver.example.com";
  auto wrong = make_client(cfg);
  ASSERT_TRUE(wrong);
  auto res = call(*wrong, "GET", "/version");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::transport_error);
  EXPECT_NE(kws::render(res.error()).find("certificate verification failed"),
            std::string::npos)
    << kws::render(res.error());
  // Without the cluster CA (system roots only) the server is not trusted.
  auto no_ca = admin_cert_config();
  no_ca.ca_pem.clear();
  auto untrusted = make_client(no_ca);
  ASSERT_TRUE(untrusted);
  EXPECT_EQ(call(*untrusted, "GET", "/version").error(), ec::transport_error);
}

TEST_F(kube_e2e, bearer_token) {
  auto c = make_client(token_config(state.admin_token));
  ASSERT_TRUE(c);
  auto nss = call(*c, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_TRUE(nss) << kws::render(nss.error());
  auto bad = make_client(token_config("not-a-valid-token"));
  ASSERT_TRUE(bad);
  auto res = call(*bad, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), ec::unauthorized);
  EXPECT_NE(kws::render(res.error()).find("HTTP 401"), std::string::npos);
}

TEST_F(kube_e2e, service_account_directory) {
  ASSERT_FALSE(state.sa_token_dir.empty());
  auto [host, port] = api_host_port();
  setenv("KUBERNETES_SERVICE_HOST", host.c_str(), 1);
  setenv("KUBERNETES_SERVICE_PORT", port.c_str(), 1);
  auto cfg = load_in_cluster(state.sa_token_dir);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  EXPECT_EQ(cfg->namespace_, state.sa_namespace);
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  // The reader may list and watch everything but write nothing.
  auto pods = call(*c, "GET", "/api/v1/pods?limit=1");
  ASSERT_TRUE(pods) << kws::render(pods.error());
  auto write = call(*c, "POST", cm_path(), configmap("forbidden", "x"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error(), ec::unauthorized);
  EXPECT_NE(kws::render(write.error()).find("HTTP 403"), std::string::npos);
  // The service account can run a whole reflector.
  auto rec = watch(c, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
}

TEST_F(kube_e2e, harness_kubeconfig) {
  auto cfg = load_kubeconfig(state.kubeconfig);
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  EXPECT_TRUE(call(*c, "GET", "/api/v1/namespaces?limit=1"));
}

TEST_F(kube_e2e, token_file_is_reread_after_401) {
  auto dir = std::filesystem::temp_directory_path() / ("kws-e2e-" + ns);
  std::filesystem::create_directories(dir);
  auto token_path = (dir / "token").string();
  std::ofstream{token_path} << "stale-token\n";
  auto cfg = token_config("");
  cfg.token_file = token_path;
  auto c = make_client(cfg);
  ASSERT_TRUE(c);
  auto first = call(*c, "GET", "/api/v1/namespaces?limit=1");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error(), ec::unauthorized);
  // The kubelet rotates the token; the next 401 re-reads the file at once
  // (not only after the one-minute period).
  std::ofstream{token_path} << state.admin_token << "\n";
  auto second = call(*c, "GET", "/api/v1/namespaces?limit=1");
  EXPECT_TRUE(second) << kws::render(second.error());
  std::filesystem::remove_all(dir);
}

TEST_F(kube_e2e, exec_plugin_token_refreshed_on_401) {
  auto dir = std::filesystem::temp_directory_path() / ("kws-e2e-" + ns);
  std::filesystem::create_directories(dir);
  auto counter = (dir / "count").string();
  auto plugin = (dir / "plugin.sh").string();
  // First run hands out a bad token, later runs the admin token.
  std::ofstream{plugin} << fmt::format(R"(#!/bin/sh
n=$(cat {0} 2>/dev/null || echo 0)
n=$((n+1)); echo $n > {0}
tok=bad-token
[ "$n" -gt 1 ] && tok={1}
case "$KUBERNETES_EXEC_INFO" in *'"server":"{2}"'*) ;; *) tok=no-cluster-info ;; esac
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}' "$tok"
)",
                                       counter, state.admin_token,
                                       state.api_url);
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  auto kubeconfig = (dir / "config").string();
  std::ofstream{kubeconfig} << fmt::format(R"(apiVersion: v1
kind: Config
current-context: exec
clusters:
- name: c
  cluster: {{server: "{}", certificate-authority: "{}"}}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: exec
  context: {{cluster: c, user: u}}
)",
                                           state.api_url, state.ca_file);
  auto cfg = load_kubeconfig(kubeconfig);
  ASSERT_TRUE(cfg) << kws::render(cfg.error());
  auto c = make_client(*cfg);
  ASSERT_TRUE(c);
  auto res = call(*c, "GET", "/api/v1/namespaces?limit=1");
  EXPECT_TRUE(res) << kws::render(res.error());
  EXPECT_EQ(slurp(counter), "2\n");
  // Cached: no expiry was given, so no new run until a 401.
  EXPECT_TRUE(call(*c, "GET", "/api/v1/namespaces?limit=1"));
  EXPECT_EQ(slurp(counter), "2\n");
  std::filesystem::remove_all(dir);
}

// -- discovery ----------------------------------------------------------------

TEST_F(kube_e2e, discovery_finds_core_apps_and_a_new_crd) {
  auto infos = discover_sync(admin);
  ASSERT_TRUE(infos) << kws::render(infos.error());
  auto types = select_watchable(*infos);
  auto has = [&](const std::vector<kws::resource_type>& xs,
                 const std::string& gr) {
    return std::any_of(xs.begin(), xs.end(), [&](const kws::resource_type& t) {
      return t.group_resource() == gr;
    });
  };
  EXPECT_TRUE(has(types, "pods"));
  EXPECT_TRUE(has(types, "configmaps"));
  EXPECT_TRUE(has(types, "deployments.apps"));
  EXPECT_TRUE(has(types, "customresourcedefinitions.apiextensions.k8s.io"));
  EXPECT_FALSE(has(types, "bindings"));
  EXPECT_FALSE(has(types, "events.events.k8s.io"));
  auto widget = create_crd();
  std::vector<kws::resource_type> later;
  std::vector<api_resource_info> later_infos;
  ASSERT_TRUE(eventually([&] {
    auto again = discover_sync(admin);
    if (!again)
      return false;
    later_infos = *again;
    later = select_watchable(*again);
    return has(later, widget.group_resource());
  }))
    << widget.group_resource() << " never showed up in discovery";
  resource_resolver resolver{later_infos};
  for (const auto& name : std::vector<std::string>{
         widget.plural, "widget" + crd_suffix, widget.kind, "wdg" + crd_suffix,
         widget.plural + "." + widget.group}) {
    auto t = resolver.resolve(name);
    ASSERT_TRUE(t) << name << ": " << kws::render(t.error());
    EXPECT_EQ(*t, widget) << name;
  }
  auto deploy = resolver.resolve_kind("apps/v1", "Deployment");
  ASSERT_TRUE(deploy);
  EXPECT_EQ(deploy->plural, "deployments");
}

// -- lists --------------------------------------------------------------------

TEST_F(kube_e2e, list_with_limit_one_pages_through_everything) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("page-{}", i), "x")));
  auto full = call(*admin, "GET", cm_path());
  ASSERT_TRUE(full);
  auto all = parse_list_page(*full, "ConfigMap");
  ASSERT_TRUE(all);
  std::set<std::string> expected;
  for (const auto& item : all->items)
    expected.insert(parse_object_meta(item)->name);
  ASSERT_GE(expected.size(), 5u);
  std::set<std::string> paged;
  std::string token;
  int pages = 0;
  std::string list_rv;
  do {
    auto target = cm_path() + "?limit=1";
    if (!token.empty())
      target += "&continue=" + url_encode(token);
    auto body = call(*admin, "GET", target);
    ASSERT_TRUE(body) << kws::render(body.error());
    auto page = parse_list_page(*body, "ConfigMap");
    ASSERT_TRUE(page);
    ASSERT_LE(page->items.size(), 1u);
    if (pages == 0)
      list_rv = page->resource_version;
    // Every page reports the same snapshot RV.
    EXPECT_EQ(page->resource_version, list_rv);
    for (const auto& item : page->items) {
      EXPECT_EQ(json_string(item, "kind"), "ConfigMap");
      EXPECT_EQ(json_string(item, "apiVersion"), "v1");
      paged.insert(parse_object_meta(item)->name);
    }
    token = page->continue_token;
    ASSERT_LT(++pages, 100);
  } while (!token.empty());
  EXPECT_EQ(paged, expected);
  EXPECT_GE(pages, 5);
}

// -- watches ------------------------------------------------------------------

TEST_F(kube_e2e, watch_sees_added_modified_deleted_in_order) {
  auto rec = watch(admin, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  auto created = call(*admin, "POST", cm_path(), configmap("w1", "one"));
  ASSERT_TRUE(created) << kws::render(created.error());
  auto patched
    = call(*admin, "PATCH", cm_path("w1"), R"({"data":{"v":"two"}})");
  ASSERT_TRUE(patched) << kws::render(patched.error());
  auto put_body = *patched;
  auto deleted = call(*admin, "DELETE", cm_path("w1"));
  ASSERT_TRUE(deleted) << kws::render(deleted.error());
  auto key = ns + "/w1";
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return has_type(r.of(key), watch_event_type::deleted);
  }))
    << "no DELETED event";
  std::lock_guard guard{rec->mtx};
  auto evs = rec->of(key);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].type, watch_event_type::added);
  EXPECT_EQ(evs[1].type, watch_event_type::modified);
  EXPECT_EQ(evs[2].type, watch_event_type::deleted);
  EXPECT_EQ(evs[0].resource_version,
            json_string(*created, "metadata", "resourceVersion"));
  EXPECT_EQ(evs[1].resource_version,
            json_string(*patched, "metadata", "resourceVersion"));
  // Watch objects are complete and the DELETED one has the last state.
  EXPECT_EQ(json_string(evs[2].object, "kind"), "ConfigMap");
  EXPECT_NE(evs[2].object.find(R"("v":"two")"), std::string::npos);
  EXPECT_EQ(rec->lists.size(), 1u); // no relist was needed
}

TEST_F(kube_e2e, flow_control_holds_events_until_ack) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  rec->r = reflector::make(admin, configmaps, {}, rec->callbacks());
  recorders.push_back(rec);
  rec->r->start("");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  // The list is not acked: the watch has not even started.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("held-{}", i), "x")));
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_TRUE(rec->events.empty());
  }
  rec->r->ack();
  // The watch starts at the list RV, so the three creates arrive; ack each
  // batch by hand.
  auto seen_all = [&] {
    std::unique_lock guard{rec->mtx};
    return rec->cv.wait_for(guard, wait_limit, [&] {
      size_t added = 0;
      for (int i = 0; i < 3; ++i)
        added += has_type(rec->of(fmt::format("{}/held-{}", ns, i)),
                          watch_event_type::added);
      return added == 3;
    });
  };
  std::atomic<bool> done{false};
  std::thread acker{[&] {
    for (int i = 0; i < 600 && !done; ++i) {
      rec->r->ack();
      std::this_thread::sleep_for(100ms);
    }
  }};
  EXPECT_TRUE(seen_all());
  done = true;
  acker.join();
}

// A consumer busy storing one delivery finds the next changes waiting: the
// stream is read on while the unacknowledged events stay under the window.
TEST_F(kube_e2e, the_stream_is_read_on_while_deliveries_await_their_ack) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  reflector_options opts;
  opts.max_unacked_events = 1000;
  rec->r = reflector::make(admin, configmaps, opts, rec->callbacks());
  recorders.push_back(rec);
  rec->r->start("");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  rec->r->ack(); // the list; no event is acknowledged below
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("read-on-{}", i), "x")));
  EXPECT_TRUE(rec->wait([&](recorder& r) {
    size_t added = 0;
    for (int i = 0; i < 5; ++i)
      added += has_type(r.of(fmt::format("{}/read-on-{}", ns, i)),
                        watch_event_type::added);
    return added == 5;
  }))
    << "the reflector stopped reading after its first delivery";
}

// A full window stops the reads until acknowledgements come.
TEST_F(kube_e2e, a_full_window_stops_the_reads_until_acknowledged) {
  auto rec = std::make_shared<recorder>();
  rec->ns = ns;
  rec->auto_ack = false;
  reflector_options opts;
  opts.max_unacked_events = 1;
  rec->r = reflector::make(admin, configmaps, opts, rec->callbacks());
  recorders.push_back(rec);
  rec->r->start("");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  rec->r->ack();
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("window-0", "x")));
  ASSERT_TRUE(rec->wait([](recorder& r) { return r.deliveries > 0; }));
  size_t held;
  {
    std::lock_guard guard{rec->mtx};
    held = rec->deliveries;
  }
  EXPECT_EQ(held, 1u) << "a delivery past a full window";
  for (int i = 1; i < 3; ++i)
    ASSERT_TRUE(call(*admin, "POST", cm_path(),
                     configmap(fmt::format("window-{}", i), "x")));
  // Nothing is read while the window is full (the writes above are done).
  EXPECT_FALSE(rec->wait([&](recorder& r) { return r.deliveries > held; },
                         std::chrono::seconds{2}))
    << "the stream was read with a full window";
  std::atomic<bool> done{false};
  std::thread acker{[&] {
    for (int i = 0; i < 600 && !done; ++i) {
      rec->r->ack();
      std::this_thread::sleep_for(100ms);
    }
  }};
  EXPECT_TRUE(rec->wait([&](recorder& r) {
    size_t added = 0;
    for (int i = 0; i < 3; ++i)
      added += has_type(r.of(fmt::format("{}/window-{}", ns, i)),
                        watch_event_type::added);
    return added == 3;
  }));
  done = true;
  acker.join();
}

TEST_F(kube_e2e, large_objects_in_lists_and_watches) {
  auto rec = watch(admin, configmaps);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  std::string big;
  for (int i = 0; i < 100000; ++i)
    big += "ä€𝄞";
  ASSERT_GE(big.size(), 900000u);
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("big", big)));
  auto key = ns + "/big";
  ASSERT_TRUE(rec->wait([&](recorder& r) { return !r.of(key).empty(); }));
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_NE(rec->of(key)[0].object.find(big), std::string::npos);
  }
  auto listed = call(*admin, "GET", cm_path());
  ASSERT_TRUE(listed);
  auto page = parse_list_page(*listed, "ConfigMap");
  ASSERT_TRUE(page);
  EXPECT_TRUE(std::any_of(
    page->items.begin(), page->items.end(),
    [&](const std::string& x) { return x.find(big) != std::string::npos; }));
}

TEST_F(kube_e2e, forced_410_relists_without_losing_a_change) {
  auto widget = create_crd();
  auto path = fmt::format("/apis/{}/v1/namespaces/{}/{}", widget.group, ns,
                          widget.plural);
  auto widget_body = [&](const std::string& name, int n) {
    return fmt::format(
      R"({{"apiVersion":"{}/v1","kind":"{}","metadata":{{"name":"{}"}},"spec":{{"n":{}}}}})",
      widget.group, widget.kind, name, n);
  };
  // The CRD resource is created and served (retry briefly: discovery and
  // the new REST endpoint can lag Established).
  caf::expected<std::string> created{caf::error{}};
  ASSERT_TRUE(eventually([&] {
    created = call(*admin, "POST", path, widget_body("w1", 1));
    return static_cast<bool>(created);
  }))
    << kws::render(created.error());
  auto modified = call(*admin, "PATCH", path + "/w1", R"({"spec":{"n":2}})");
  ASSERT_TRUE(modified) << kws::render(modified.error());
  auto rv_after_change = json_string(*modified, "metadata", "resourceVersion");
  // Resume from RV 1, long before this resource's watch cache began: the
  // apiserver answers 410 Expired, and the relist must carry the change.
  auto rec = watch(admin, widget, "1");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }))
    << "no relist after the 410";
  {
    std::lock_guard guard{rec->mtx};
    EXPECT_TRUE(has_error(rec->errors, ec::gone))
      << "expected a 410, got " << rec->errors.size() << " errors";
    const auto& list = rec->lists.front();
    ASSERT_EQ(list.items.size(), 1u);
    auto meta = parse_object_meta(list.items[0]);
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->name, "w1");
    EXPECT_EQ(meta->resource_version, rv_after_change);
    EXPECT_EQ(json_string(list.items[0], "kind"), widget.kind);
  }
  // The watch after the relist continues from the list RV.
  ASSERT_TRUE(call(*admin, "PATCH", path + "/w1", R"({"spec":{"n":3}})"));
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return has_type(r.of(ns + "/w1"), watch_event_type::modified);
  }));
}

TEST_F(kube_e2e, apiserver_going_away_mid_watch_resumes_without_loss) {
  auto [host, port] = api_host_port();
  tcp_proxy proxy{host, port};
  auto cfg = admin_cert_config();
  cfg.server = fmt::format("https://127.0.0.1:{}", proxy.port());
  auto via_proxy = make_client(cfg);
  ASSERT_TRUE(via_proxy);
  reflector_options opts;
  opts.initial_backoff = 200ms;
  auto rec = watch(via_proxy, configmaps, "", opts);
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("a", "1")));
  ASSERT_TRUE(rec->wait([&](recorder& r) { return !r.of(ns + "/a").empty(); }));
  // The apiserver vanishes: connections drop, new ones are refused.
  proxy.down();
  ASSERT_TRUE(call(*admin, "POST", cm_path(), configmap("b", "1")));
  ASSERT_TRUE(call(*admin, "PATCH", cm_path("a"), R"({"data":{"v":"2"}})"));
  ASSERT_TRUE(rec->wait(
    [](recorder& r) { return has_error(r.errors, ec::transport_error); }))
    << "the reflector never noticed the outage";
  proxy.up();
  ASSERT_TRUE(rec->wait([&](recorder& r) {
    return !r.of(ns + "/b").empty()
      && has_type(r.of(ns + "/a"), watch_event_type::modified);
  }))
    << "changes made during the outage were lost";
  std::lock_guard guard{rec->mtx};
  // Resumed from the last RV by watch, not by a relist.
  EXPECT_EQ(rec->lists.size(), 1u);
  EXPECT_EQ(rec->of(ns + "/b")[0].type, watch_event_type::added);
}

// Found by LeakSanitizer: a recorder owns its reflector and the reflector's
// callbacks own the recorder, so the pair (and the client) outlived the test.
TEST_F(kube_e2e, stop_releases_callbacks_that_own_the_reflector) {
  std::weak_ptr<recorder> weak;
  {
    auto rec = watch(admin, configmaps);
    weak = rec;
    ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
    rec->stop();
    recorders.clear();
  }
  EXPECT_TRUE(eventually([&] { return weak.expired(); }))
    << "the reflector still holds its callbacks after stop";
}

// Work still queued when stop gives up waiting for the io thread owns its
// captures; here they own the client itself, a cycle only stop can break.
TEST_F(kube_e2e, stop_after_its_timeout_destroys_queued_work_unrun) {
  client_options opts;
  opts.stop_timeout = 100ms;
  auto made = client::make(admin_cert_config(), opts);
  ASSERT_TRUE(made) << kws::render(made.error());
  auto c = *made;
  std::promise<void> entered;
  c->post([&entered] {
    entered.set_value();
    std::this_thread::sleep_for(1s); // outlasts stop_timeout
  });
  entered.get_future().wait();
  auto owner = std::make_shared<std::shared_ptr<client>>(c);
  std::weak_ptr<std::shared_ptr<client>> weak = owner;
  std::atomic<bool> ran = false;
  c->post([owner, &ran] { ran = true; });
  owner.reset();
  c->stop();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(weak.expired()) << "queued work outlived the client's stop";
}

// Found by LeakSanitizer in the server, which stops its client right after
// the watchers: the reflector's clean-up was skipped once the client was
// stopping, and a reflector waiting for an ack kept itself alive.
TEST_F(kube_e2e, a_reflector_stopped_just_before_its_client_is_released) {
  auto c = make_client(admin_cert_config());
  ASSERT_TRUE(c);
  auto rec = std::make_shared<recorder>();
  rec->auto_ack = false; // the reflector waits for an ack after the list
  rec->r
    = reflector::make(c, configmaps, reflector_options{}, rec->callbacks());
  rec->r->start("");
  ASSERT_TRUE(rec->wait([](recorder& r) { return !r.lists.empty(); }));
  std::weak_ptr<reflector> weak = rec->r;
  rec->stop();
  c->stop();
  rec.reset();
  EXPECT_TRUE(eventually([&] { return weak.expired(); }))
    << "the reflector outlived its stop and its client's";
}
