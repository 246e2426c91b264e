# The container image run with Podman as deploy/statefulset.yaml runs it,
# against the real control plane: deploy/build-image builds the runtime stage
# around the release binary (base image and layers cached in
# $HOME/.cache/kws-podman; the first run makes the base with mmdebstrap from
# the Debian mirror, hence the long timeout). Exits 77, a skip, where Podman
# cannot run containers. Not in the sanitizer pass of tests/run: the image
# holds the release binary's libraries only.
add_test(NAME image_e2e COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e/image_test.sh)
# KWS_SERVER_BINARY (exported by tests/run) wins over this default.
set_tests_properties(image_e2e PROPERTIES
  LABELS e2e
  TIMEOUT 1800
  SKIP_RETURN_CODE 77
  ENVIRONMENT "KWS_DEFAULT_SERVER_BINARY=${PROJECT_BINARY_DIR}/k8s-watch-server")
