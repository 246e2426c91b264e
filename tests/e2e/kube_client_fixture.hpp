// The fixture of the kube client e2e tests: an admin client, a namespace
// of its own per test, and clean-up of every client, reflector and CRD the
// test made. Fails (never skips) without KWS_CLUSTER_STATE.
#pragma once

#include "actors/register.hpp"
#include "kube/client.hpp"
#include "tests/e2e/kube_client_support.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

namespace kws::kube::e2e {

// -- fixture ------------------------------------------------------------------

class kube_e2e : public ::testing::Test {
protected:
  struct actor_config : caf::actor_system_config {
    actor_config() { kws::add_actor_types(*this); }
  };

  /// Where the recorders' reflectors run; outlives them.
  actor_config actor_cfg;
  caf::actor_system actors{actor_cfg};

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

  /// An admin client that reaches the apiserver through 127.0.0.1:`port`
  /// (a proxy in front of it).
  std::shared_ptr<client> admin_client_via(uint16_t port) {
    auto cfg = admin_cert_config();
    cfg.server = "https://127.0.0.1:" + std::to_string(port);
    return make_client(std::move(cfg));
  }

  std::shared_ptr<recorder> watch(std::shared_ptr<client> c,
                                  kws::resource_type type,
                                  std::string resume_rv = "",
                                  reflector_settings settings = {}) {
    auto rec = std::make_shared<recorder>();
    rec->ns = ns;
    settings.seed = 1;
    rec->start(actors, std::move(c), std::move(type), std::move(resume_rv),
               settings);
    recorders.push_back(rec);
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

} // namespace kws::kube::e2e
