# The kube client against the real control plane (tests/cluster). Included
# by tests/e2e/CMakeLists.txt; needs KWS_CLUSTER_STATE at run time and fails
# without it.
add_executable(kube_e2e_tests
  ${CMAKE_CURRENT_LIST_DIR}/kube_client_auth_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kube_client_discovery_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kube_client_watch_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kube_client_stop_test.cpp)
target_link_libraries(kube_e2e_tests PRIVATE kws_actors kws_kube kws_rapidjson
  GTest::gtest_main Threads::Threads kws_warnings)
target_compile_definitions(kube_e2e_tests PRIVATE BOOST_ASIO_NO_DEPRECATED)
gtest_discover_tests(kube_e2e_tests
  PROPERTIES LABELS e2e TIMEOUT 300
  DISCOVERY_TIMEOUT 60)
