# Runs kws_bench at a tiny size into a temporary directory and checks that the
# result holds every metric with a plausible value. Timing goals are not
# checked here (bench/run reports them); this guards the benchmark itself.
#
#   cmake -DBENCH=<kws_bench> -DWORK=<dir> -P check_tiny.cmake
cmake_minimum_required(VERSION 3.25)
set(events 20000)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND "${BENCH}" --events ${events} --seed 3 --queries 40
          --dir "${WORK}/scratch" --out "${WORK}/result.json"
  RESULT_VARIABLE rc
  ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kws_bench failed (${rc}):\n${log}")
endif()
file(READ "${WORK}/result.json" json)

# Every metric bench/run reports, and each must be a number.
set(metrics
  events seed days workload_bytes generator_seconds ingest_wall_seconds
  ingest_seconds ingest_io_seconds ingest_events_per_s
  ingest_mb_per_s
  stored_records malformed disk_bytes_total disk_bytes_sst
  disk_bytes_per_event peak_rss_mb_after_ingest queries history_p50_ms
  history_p99_ms history_mean_records page_p50_ms page_p99_ms
  page_mean_records peak_rss_mb rss_mb_after_queries partitions
  retention_partitions_dropped retention_drop_ms retention_bytes_freed
  retention_events_per_day raw_seconds raw_events_per_s raw_mb_per_s
  raw_disk_bytes_per_event ingest_fraction_of_raw peak_rss_mb_with_raw
  avg_line_bytes_pods avg_line_bytes_deployments avg_line_bytes_replicasets
  avg_line_bytes_configmaps avg_line_bytes_events linked_events
  ingest_cpu_us_per_event raw_cpu_us_per_event)
foreach(m IN LISTS metrics)
  string(JSON type ERROR_VARIABLE err TYPE "${json}" ${m})
  if(err OR NOT type STREQUAL "NUMBER")
    message(FATAL_ERROR "metric ${m} missing or not a number in:\n${json}")
  endif()
  string(JSON v${m} GET "${json}" ${m})
endforeach()

function(expect what)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "expected ${what}: ${ARGN}\n${json}")
  endif()
endfunction()

# Plain facts of the run (floats compared through their integer part).
expect("every event ingested" vevents EQUAL ${events})
expect("no malformed line" vmalformed EQUAL 0)
# Repeats of an unchanged object are dropped, never more than were sent.
expect("records stored" vstored_records GREATER 0)
expect("at most one record per event" NOT vstored_records GREATER ${events})
foreach(m ingest_events_per_s raw_events_per_s disk_bytes_total
          history_mean_records page_mean_records retention_bytes_freed
          linked_events peak_rss_mb avg_line_bytes_pods
          ingest_cpu_us_per_event raw_cpu_us_per_event)
  expect("${m} > 0" v${m} GREATER 0)
endforeach()
expect("history p50 <= p99" NOT vhistory_p50_ms GREATER vhistory_p99_ms)
expect("page p50 <= p99" NOT vpage_p50_ms GREATER vpage_p99_ms)
expect("one partition dropped" vretention_partitions_dropped EQUAL 1)
expect("a partition per day" NOT vpartitions LESS vdays)
file(REMOVE_RECURSE "${WORK}")
