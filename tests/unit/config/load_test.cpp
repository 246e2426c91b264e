#include "load_fixture.hpp"

#include <gtest/gtest.h>

namespace kws::config {
namespace {

TEST_F(load_test, missing_default_file_means_defaults) {
  vars["CONFIG_PATH"] = (dir / "absent.yaml").string();
  auto s = load("", env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_TRUE(s->discover_crds);
  EXPECT_FALSE(s->watch_all);
  EXPECT_EQ(s->storage_path, "/data/watch-events");
  EXPECT_EQ(s->retention_days, 14u);
  EXPECT_EQ(s->server_port, 8080);
  EXPECT_EQ(s->listen_address, "0.0.0.0");
  EXPECT_EQ(s->max_query_limit, 1000u);
  EXPECT_EQ(s->query_workers, 2u);
  EXPECT_EQ(s->read_threads, 4u);
  EXPECT_EQ(s->resources.size(), 17u);
  EXPECT_NE(s->source.find("defaults"), std::string::npos);
}

TEST_F(load_test, the_seventeen_defaults_are_the_contracts) {
  std::vector<std::string> names;
  for (auto& r : default_resources())
    names.push_back(r.group_resource());
  std::vector<std::string> expected{"pods",
                                    "nodes",
                                    "namespaces",
                                    "services",
                                    "configmaps",
                                    "secrets",
                                    "persistentvolumes",
                                    "persistentvolumeclaims",
                                    "events",
                                    "deployments.apps",
                                    "replicasets.apps",
                                    "statefulsets.apps",
                                    "daemonsets.apps",
                                    "jobs.batch",
                                    "cronjobs.batch",
                                    "ingresses.networking.k8s.io",
                                    "networkpolicies.networking.k8s.io"};
  EXPECT_EQ(names, expected);
  for (auto& r : default_resources())
    EXPECT_EQ(r.namespaced,
              r.plural != "nodes" && r.plural != "namespaces"
                && r.plural != "persistentvolumes")
      << r.plural;
}

TEST_F(load_test, explicit_missing_file_is_an_error) {
  auto s = load((dir / "absent.yaml").string(), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("absent.yaml"), std::string::npos);
}

TEST_F(load_test, file_values_override_defaults) {
  auto s = load(write(R"(
discoverCRDs: false
watchAll: true
storagePath: /var/lib/kws
retentionDays: 7
serverPort: 9090
listenAddress: "::"
maxQueryLimit: 500
answerBufferMiB: 256
queryWorkers: 4
readThreads: 8
maxWatchLagSeconds: 90
resources:
  - {group: "", version: v1, kind: Pod, plural: pods, namespaced: true}
  - group: example.com
    version: v1alpha1
    kind: Widget
    plural: widgets
    namespaced: false
)"),
                env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->discover_crds);
  EXPECT_TRUE(s->watch_all);
  EXPECT_EQ(s->storage_path, "/var/lib/kws");
  EXPECT_EQ(s->retention_days, 7u);
  EXPECT_EQ(s->server_port, 9090);
  EXPECT_EQ(s->listen_address, "::");
  EXPECT_EQ(s->max_query_limit, 500u);
  EXPECT_EQ(s->answer_buffer_mib, 256u);
  EXPECT_EQ(s->query_workers, 4u);
  EXPECT_EQ(s->read_threads, 8u);
  EXPECT_EQ(s->max_watch_lag_seconds, 90u);
  ASSERT_EQ(s->resources.size(), 2u);
  EXPECT_EQ(s->resources[1].group, "example.com");
  EXPECT_EQ(s->resources[1].kind, "Widget");
  EXPECT_FALSE(s->resources[1].namespaced);
  EXPECT_EQ(s->resources[1].collection_path(),
            "/apis/example.com/v1alpha1/widgets");
}

TEST_F(load_test, environment_overrides_the_file) {
  vars["STORAGE_PATH"] = "/env/storage";
  vars["SERVER_PORT"] = "7070";
  auto s = load(write("storagePath: /file\nserverPort: 9000\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->storage_path, "/env/storage");
  EXPECT_EQ(s->server_port, 7070);
}

TEST_F(load_test, the_admin_port_is_off_by_default_and_apart_from_the_api) {
  auto s = load(write("{}"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->admin_port, 0);
  s = load(write("adminPort: 8081\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->admin_port, 8081);
  vars["ADMIN_PORT"] = "9091";
  s = load(write("adminPort: 8081\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->admin_port, 9091);
  vars.erase("ADMIN_PORT");
  auto err = error_of("serverPort: 8081\nadminPort: 8081\n");
  EXPECT_NE(err.find("adminPort: must differ from serverPort (8081)"),
            std::string::npos)
    << err;
  err = error_of("adminPort: 65536\n");
  EXPECT_NE(err.find("adminPort: must be between 0 and 65535"),
            std::string::npos)
    << err;
  vars["ADMIN_PORT"] = "x";
  s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("ADMIN_PORT"), std::string::npos);
  vars.erase("ADMIN_PORT");
  // The probe port likewise.
  s = load(write("probePort: 8082\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->probe_port, 8082);
  vars["PROBE_PORT"] = "9092";
  s = load(write("probePort: 8082\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->probe_port, 9092);
  vars.erase("PROBE_PORT");
  err = error_of("adminPort: 8081\nprobePort: 8081\n");
  EXPECT_NE(err.find("probePort: must differ from serverPort and adminPort"),
            std::string::npos)
    << err;
}

TEST_F(load_test, badger_path_is_an_alias_and_storage_path_wins) {
  vars["BADGER_PATH"] = "/badger";
  auto s = load(write("{}"), env());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->storage_path, "/badger");
  vars["STORAGE_PATH"] = "/storage";
  s = load(write("{}"), env());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->storage_path, "/storage");
}

TEST_F(load_test, config_path_environment_names_the_file) {
  auto path = write("retentionDays: 3\n");
  vars["CONFIG_PATH"] = path;
  auto s = load("", env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->retention_days, 3u);
  EXPECT_EQ(s->source, path);
}

TEST_F(load_test, empty_resources_keep_the_defaults) {
  auto s = load(write("resources: []\n"), env());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->resources.size(), 17u);
}

TEST_F(load_test, invalid_values_name_their_key) {
  EXPECT_NE(error_of("retentionDays: -3\n").find("retentionDays"),
            std::string::npos);
  EXPECT_NE(error_of("retentionDays: 0\n").find("retentionDays"),
            std::string::npos);
  EXPECT_NE(error_of("retentionDays: soon\n").find("retentionDays"),
            std::string::npos);
  EXPECT_NE(error_of("serverPort: 70000\n").find("serverPort"),
            std::string::npos);
  EXPECT_NE(error_of("serverPort: 0\n").find("serverPort"), std::string::npos);
  for (const char* bad : {"localhost", "1.2.3", "0.0.0.0:8080", "''", "[::]"})
    EXPECT_NE(error_of(std::string{"listenAddress: "} + bad + "\n")
                .find("listenAddress"),
              std::string::npos)
      << bad;
  EXPECT_NE(error_of("answerBufferMiB: 0\n").find("answerBufferMiB"),
            std::string::npos);
  EXPECT_NE(error_of("maxQueryLimit: 0\n").find("maxQueryLimit"),
            std::string::npos);
  EXPECT_NE(error_of("queryWorkers: 0\n").find("queryWorkers"),
            std::string::npos);
  EXPECT_NE(error_of("queryWorkers: 65\n").find("queryWorkers"),
            std::string::npos);
  EXPECT_NE(error_of("readThreads: 0\n").find("readThreads"),
            std::string::npos);
  EXPECT_NE(error_of("readThreads: 65\n").find("readThreads"),
            std::string::npos);
  EXPECT_NE(error_of("maxWatchLagSeconds: 0\n").find("maxWatchLagSeconds"),
            std::string::npos);
  EXPECT_NE(error_of("discoverCRDs: maybe\n").find("discoverCRDs"),
            std::string::npos);
  EXPECT_NE(error_of("storagePath: \"\"\n").find("storagePath"),
            std::string::npos);
  EXPECT_NE(error_of("retentionDay: 3\n").find("retentionDay: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("resources: pods\n").find("resources"), std::string::npos);
}

TEST_F(load_test, invalid_resources_name_their_index_and_field) {
  auto err = error_of("resources:\n  - {version: v1, kind: Pod}\n");
  EXPECT_NE(err.find("resources[0].plural: missing"), std::string::npos) << err;
  err = error_of("resources:\n  - {version: v1, kind: Pod, plural: pods}\n"
                 "  - {version: v1, kind: Pod, plural: Pods}\n");
  EXPECT_NE(err.find("resources[1].plural"), std::string::npos) << err;
  err = error_of("resources:\n  - {version: v1, kind: Pod, plural: pods}\n"
                 "  - {version: v1, kind: Pod, plural: pods}\n");
  EXPECT_NE(err.find("resources[1]: duplicate"), std::string::npos) << err;
  err = error_of("resources:\n  - {version: v1, kind: Pod, plural: pods, "
                 "scope: x}\n");
  EXPECT_NE(err.find("resources[0].scope: unknown key"), std::string::npos)
    << err;
  err = error_of("resources:\n  - {version: v1, kind: Pod, plural: pods, "
                 "namespaced: sometimes}\n");
  EXPECT_NE(err.find("resources[0].namespaced"), std::string::npos) << err;
}

TEST_F(load_test, broken_yaml_names_file_and_position) {
  auto err = error_of("retentionDays: [1, 2\nserverPort: 1\n");
  EXPECT_NE(err.find("resources.yaml"), std::string::npos) << err;
  EXPECT_NE(err.find("line"), std::string::npos) << err;
}

TEST_F(load_test, invalid_environment_values_name_the_variable) {
  vars["SERVER_PORT"] = "http";
  auto s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("SERVER_PORT"), std::string::npos);
  vars["SERVER_PORT"] = "8080";
  vars["STORAGE_PATH"] = "";
  s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("STORAGE_PATH"), std::string::npos);
}

TEST_F(load_test, access_log_is_on_and_logs_are_text_by_default) {
  auto s = load(write("{}"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_TRUE(s->access_log);
  EXPECT_EQ(s->log_format, log_format::text);
}

TEST_F(load_test, reads_access_log_and_log_format) {
  auto s = load(write("accessLog: false\nlogFormat: json\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->access_log);
  EXPECT_EQ(s->log_format, log_format::json);
  s = load(write("logFormat: text\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->log_format, log_format::text);
}

TEST_F(load_test, invalid_log_settings_name_the_key_and_the_choices) {
  auto err = error_of("logFormat: yaml\n");
  EXPECT_NE(err.find("logFormat: expected text or json, got 'yaml'"),
            std::string::npos)
    << err;
  err = error_of("logFormat: JSON\n");
  EXPECT_NE(err.find("logFormat"), std::string::npos) << err;
  err = error_of("logFormat: [json]\n");
  EXPECT_NE(err.find("logFormat: expected text or json"), std::string::npos)
    << err;
  err = error_of("accessLog: sometimes\n");
  EXPECT_NE(err.find("accessLog: expected true or false"), std::string::npos)
    << err;
}

TEST_F(load_test, reads_namespace_lists_selectors_and_status_policy) {
  auto s = load(write(R"(
namespaces: [shop, payments]
excludeNamespaces: [kube-system]
resources:
  - {group: "", version: v1, kind: Pod, plural: pods, namespaced: true,
     namespaces: [shop], excludeNamespaces: [noisy],
     labelSelector: "app in (web, api),!canary",
     fieldSelector: "status.phase!=Succeeded", statusUpdates: drop}
  - {group: coordination.k8s.io, version: v1, kind: Lease, plural: leases,
     namespaced: true, statusUpdates: keep}
  - {group: "", version: v1, kind: Node, plural: nodes, namespaced: false,
     labelSelector: "node-role.kubernetes.io/worker"}
)"),
                env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->filters.namespaces,
            (std::vector<std::string>{"shop", "payments"}));
  EXPECT_EQ(s->filters.exclude_namespaces,
            std::vector<std::string>{"kube-system"});
  const auto& pods = s->filters.by_type.at("pods");
  EXPECT_EQ(pods.namespaces, std::vector<std::string>{"shop"});
  EXPECT_EQ(pods.exclude_namespaces, std::vector<std::string>{"noisy"});
  EXPECT_EQ(pods.label_selector, "app in (web, api),!canary");
  EXPECT_EQ(pods.field_selector, "status.phase!=Succeeded");
  EXPECT_EQ(pods.status, status_updates::drop);
  // A filter that changes nothing is not kept.
  EXPECT_FALSE(s->filters.by_type.contains("leases.coordination.k8s.io"));
  EXPECT_EQ(s->filters.by_type.at("nodes").label_selector,
            "node-role.kubernetes.io/worker");
  auto watch = watch_part(*s);
  EXPECT_EQ(watch.filters, s->filters);
  EXPECT_EQ(watch.max_watch_lag_ms, 30'000);
}

TEST_F(load_test, invalid_filters_name_the_key) {
  auto check = [&](const std::string& text, const std::string& expected) {
    auto err = error_of(text);
    EXPECT_NE(err.find(expected), std::string::npos) << err;
  };
  const std::string pod = "resources:\n  - {group: \"\", version: v1, "
                          "kind: Pod, plural: pods, namespaced: true, ";
  check("namespaces: [Shop]\n", "namespaces[0]: 'Shop' is not a namespace");
  check("excludeNamespaces: shop\n",
        "excludeNamespaces: expected a list of namespaces");
  check("namespaces: [a, a]\n", "namespaces[1]: duplicate namespace a");
  check("namespaces: [a]\nexcludeNamespaces: [a]\n",
        "namespaces: every namespace of `namespaces` is excluded");
  check(pod + "labelSelector: \"app in web\"}\n",
        "resources[0].labelSelector: 'app in web'");
  check(pod + "fieldSelector: \"spec.nodeName\"}\n",
        "resources[0].fieldSelector: 'spec.nodeName'");
  check(pod + "statusUpdates: sometimes}\n",
        "resources[0].statusUpdates: expected keep or drop, got 'sometimes'");
  check(pod + "namespaces: [a], excludeNamespaces: [a]}\n",
        "resources[0].namespaces: every namespace");
  check("resources:\n  - {group: \"\", version: v1, kind: Node, plural: "
        "nodes, namespaced: false, namespaces: [a]}\n",
        "resources[0].namespaces: the resource is cluster-scoped");
  check(pod + "selector: x}\n", "resources[0].selector: unknown key");
}

TEST_F(load_test, auth_is_off_by_default_and_read_from_its_section) {
  auto s = load(write("{}"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.mode, auth_mode::none);
  EXPECT_EQ(s->auth.cache_seconds, 60u);
  EXPECT_EQ(s->auth.failure_cache_seconds, 30u);
  s = load(write(R"(auth:
  mode: token
  audiences: [https://kubernetes.default.svc, kws]
  cacheSeconds: 5
  failureCacheSeconds: 2
)"),
           env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.mode, auth_mode::token);
  EXPECT_EQ(
    s->auth.audiences,
    (std::vector<std::string>{"https://kubernetes.default.svc", "kws"}));
  EXPECT_EQ(s->auth.cache_seconds, 5u);
  EXPECT_EQ(s->auth.failure_cache_seconds, 2u);
  // The environment wins over the file.
  vars["AUTH_MODE"] = "none";
  s = load(write("auth: {mode: token}\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.mode, auth_mode::none);
}

TEST_F(load_test, invalid_auth_settings_name_the_key) {
  auto err = error_of("auth: {mode: tokens}\n");
  EXPECT_NE(err.find("auth.mode: expected none, token or proxy, got 'tokens'"),
            std::string::npos)
    << err;
  err = error_of("auth: {cacheSeconds: 0}\n");
  EXPECT_NE(err.find("auth.cacheSeconds"), std::string::npos) << err;
  err = error_of("auth: {audiences: kws}\n");
  EXPECT_NE(err.find("auth.audiences: expected a list"), std::string::npos)
    << err;
  err = error_of("auth: {mod: token}\n");
  EXPECT_NE(err.find("auth.mod: unknown key"), std::string::npos) << err;
  err = error_of("auth: token\n");
  EXPECT_NE(err.find("auth: expected a mapping"), std::string::npos) << err;
  vars["AUTH_MODE"] = "tokens";
  auto s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("AUTH_MODE"), std::string::npos);
}

TEST_F(load_test, proxy_mode_reads_whom_to_believe) {
  const std::string tls = "tls: {certFile: /c.pem, keyFile: /k.pem}\n";
  auto s = load(write(tls
                      + "auth: {mode: proxy, proxy: {clientCAFile: "
                        "/ca.pem}}\n"),
                env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.mode, auth_mode::proxy);
  EXPECT_EQ(s->auth.proxy.client_ca_file, "/ca.pem");
  // The apiserver's own defaults.
  EXPECT_TRUE(s->auth.proxy.allowed_names.empty());
  EXPECT_EQ(s->auth.proxy.username_headers,
            std::vector<std::string>{"X-Remote-User"});
  EXPECT_EQ(s->auth.proxy.group_headers,
            std::vector<std::string>{"X-Remote-Group"});
  EXPECT_EQ(s->auth.proxy.extra_headers_prefixes,
            std::vector<std::string>{"X-Remote-Extra-"});
  s = load(write(tls + R"(auth:
  mode: proxy
  proxy:
    clientCAFile: /ca.pem
    allowedNames: [front-proxy-client]
    usernameHeaders: [X-Forwarded-User, X-Remote-User]
    groupHeaders: []
    extraHeadersPrefixes: [X-Forwarded-Extra-]
)"),
           env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.proxy.allowed_names,
            std::vector<std::string>{"front-proxy-client"});
  EXPECT_EQ(s->auth.proxy.username_headers,
            (std::vector<std::string>{"X-Forwarded-User", "X-Remote-User"}));
  EXPECT_TRUE(s->auth.proxy.group_headers.empty());
  EXPECT_EQ(s->auth.proxy.extra_headers_prefixes,
            std::vector<std::string>{"X-Forwarded-Extra-"});
  // The environment may choose it too, and then needs the same.
  vars["AUTH_MODE"] = "proxy";
  s = load(write(tls + "auth: {proxy: {clientCAFile: /ca.pem}}\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->auth.mode, auth_mode::proxy);
  s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("tls.certFile: needed with auth.mode proxy"),
            std::string::npos)
    << render(s.error());
}

TEST_F(load_test, proxy_mode_without_what_it_needs_names_the_key) {
  const std::string tls = "tls: {certFile: /c.pem, keyFile: /k.pem}\n";
  auto err = error_of("auth: {mode: proxy, proxy: {clientCAFile: /ca}}\n");
  EXPECT_NE(err.find("tls.certFile: needed with auth.mode proxy"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {mode: proxy}\n");
  EXPECT_NE(err.find("auth.proxy.clientCAFile: needed with auth.mode proxy"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {mode: proxy, proxy: {clientCAFile: \"\"}}\n");
  EXPECT_NE(err.find("auth.proxy.clientCAFile: must not be empty"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {proxy: {usernameHeaders: [\"X User\"]}}\n");
  EXPECT_NE(err.find("auth.proxy.usernameHeaders[0]: 'X User' is not an "
                     "HTTP header name"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {proxy: {usernameHeaders: []}}\n");
  EXPECT_NE(err.find("auth.proxy.usernameHeaders: must name at least one"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {proxy: {allowedNames: front}}\n");
  EXPECT_NE(err.find("auth.proxy.allowedNames: expected a list"),
            std::string::npos)
    << err;
  err = error_of(tls + "auth: {proxy: {clientCA: /ca}}\n");
  EXPECT_NE(err.find("auth.proxy.clientCA: unknown key"), std::string::npos)
    << err;
  // Only proxy mode needs them: token mode ignores an unused proxy section.
  auto s
    = load(write("auth: {mode: token, proxy: {clientCAFile: /ca}}\n"), env());
  EXPECT_TRUE(s) << render(s.error());
}

TEST_F(load_test, backup_root_defaults_to_the_volume_and_is_validated) {
  auto s = load(write("{}"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->backup_root, "/data/backups");
  s = load(write("backupRoot: /var/lib/kws//backups/\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->backup_root, "/var/lib/kws/backups");
  vars["BACKUP_ROOT"] = "/srv/backups";
  s = load(write("backupRoot: /var/lib/kws/backups\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_EQ(s->backup_root, "/srv/backups");
  vars.erase("BACKUP_ROOT");
  auto err = error_of("backupRoot: backups\n");
  EXPECT_NE(err.find("backupRoot: expected an absolute directory"),
            std::string::npos)
    << err;
  err = error_of("backupRoot: /data/../etc\n");
  EXPECT_NE(err.find("backupRoot: must not contain . or .. segments"),
            std::string::npos)
    << err;
  vars["BACKUP_ROOT"] = "relative";
  s = load(write("{}"), env());
  ASSERT_FALSE(s);
  EXPECT_NE(render(s.error()).find("BACKUP_ROOT"), std::string::npos);
}

TEST_F(load_test, tls_is_off_by_default_and_read_from_its_section) {
  auto s = load(write("serverPort: 8443\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->tls.enabled());
  s = load(write(R"(tls:
  certFile: /tls/tls.crt
  keyFile: /tls/tls.key
)"),
           env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_TRUE(s->tls.enabled());
  EXPECT_EQ(s->tls.cert_file, "/tls/tls.crt");
  EXPECT_EQ(s->tls.key_file, "/tls/tls.key");
  // A chart that renders both empty means plain HTTP.
  s = load(write("tls: {certFile: \"\", keyFile: \"\"}\n"), env());
  ASSERT_TRUE(s) << render(s.error());
  EXPECT_FALSE(s->tls.enabled());
}

TEST_F(load_test, invalid_tls_settings_name_the_key) {
  auto err = error_of("tls: {certFile: /tls/tls.crt}\n");
  EXPECT_NE(err.find("tls.keyFile: needed as well"), std::string::npos) << err;
  err = error_of("tls: {keyFile: /tls/tls.key}\n");
  EXPECT_NE(err.find("tls.certFile: needed as well"), std::string::npos) << err;
  err = error_of("tls: {certfile: /tls/tls.crt}\n");
  EXPECT_NE(err.find("tls.certfile: unknown key"), std::string::npos) << err;
  err = error_of("tls: /tls\n");
  EXPECT_NE(err.find("tls: expected a mapping"), std::string::npos) << err;
  err = error_of("tls: {certFile: [a], keyFile: b}\n");
  EXPECT_NE(err.find("tls.certFile: expected a string"), std::string::npos)
    << err;
}

} // namespace
} // namespace kws::config
