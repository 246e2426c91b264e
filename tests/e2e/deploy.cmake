# Deployment material (deploy/) against the real control plane: server-side
# dry runs of the manifests, the kustomization and the Helm chart, RBAC of the
# ServiceAccount, hadolint, and the server run with the ServiceAccount's token
# in the in-cluster layout. Needs tests/cluster/up; builds helm once into
# $HOME/.cache/kws-tools (Go module proxy), hence the long timeout.
add_test(NAME deploy_e2e COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/deploy_test.sh)
# KWS_SERVER_BINARY (exported by tests/run) wins over this default.
set_tests_properties(deploy_e2e PROPERTIES
  LABELS e2e
  TIMEOUT 1800
  ENVIRONMENT "KWS_DEFAULT_SERVER_BINARY=${PROJECT_BINARY_DIR}/k8s-watch-server")
