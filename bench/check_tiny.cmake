# Runs kws_bench at a tiny size into a temporary directory and checks that the
# result holds every metric with a plausible value. Timing goals are not
# checked here (bench/run reports them); this guards the benchmark itself.
#
#   cmake -DBENCH=<kws_bench> -DWORK=<dir> -P check_tiny.cmake
cmake_minimum_required(VERSION 3.25)
set(events 20000)
# The paced ingest with queries: 4 s at 1,000 events/s.
set(during_events 4000)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
# HTTP during ingest needs wrk; without it those keys are not written.
find_program(WRK wrk)
set(wrk_args)
if(WRK)
  set(wrk_args --wrk "${WRK}" --wrk-seconds 1)
endif()
execute_process(
  COMMAND "${BENCH}" --events ${events} --seed 3 --queries 40
          --dir "${WORK}/scratch" --out "${WORK}/result.json"
          --during-seconds 4 --during-rate 1000 ${wrk_args}
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
  ingest_cpu_us_per_event raw_cpu_us_per_event
  physical_limit_events_per_s same_keys_limit_events_per_s
  ingest_fraction_of_physical ingest_fraction_of_same_keys
  physical_limit_cpu_us_per_event same_keys_limit_cpu_us_per_event
  during_ingest_events_per_s during_ingest_queries during_ingest_query_failures
  history_p99_ms_during_ingest page_p99_ms_during_ingest
  changes_p99_ms_during_ingest peak_rss_mb_prefill
  peak_rss_mb_during_ingest_queries peak_rss_mb_queries_at_rest
  ingest_end_memtables_mb ingest_end_block_cache_mb
  ingest_end_table_readers_mb ingest_cpu_us_per_event_kws_storage
  ingest_cpu_us_per_event_kws_replay_io)
if(WRK)
  list(APPEND metrics http_limit10_req_per_s_during_ingest
       http_limit10_failures_during_ingest)
endif()
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
math(EXPR all_events "${events} + ${during_events}")
expect("at most one record per event" NOT vstored_records GREATER ${all_events})
expect("the paced ingest's records stored too"
       vstored_records GREATER ${events})
foreach(m ingest_events_per_s raw_events_per_s disk_bytes_total
          history_mean_records page_mean_records retention_bytes_freed
          linked_events peak_rss_mb avg_line_bytes_pods
          ingest_cpu_us_per_event raw_cpu_us_per_event
          physical_limit_events_per_s same_keys_limit_events_per_s
          during_ingest_events_per_s during_ingest_queries
          history_p99_ms_during_ingest page_p99_ms_during_ingest
          changes_p99_ms_during_ingest ingest_end_memtables_mb
          ingest_cpu_us_per_event_kws_storage)
  expect("${m} > 0" v${m} GREATER 0)
endforeach()
expect("no query failed during ingest" vduring_ingest_query_failures EQUAL 0)
if(WRK)
  expect("HTTP answered during ingest"
         vhttp_limit10_req_per_s_during_ingest GREATER 0)
  expect("every HTTP answer a 200" vhttp_limit10_failures_during_ingest EQUAL 0)
endif()
expect("history p50 <= p99" NOT vhistory_p50_ms GREATER vhistory_p99_ms)
expect("page p50 <= p99" NOT vpage_p50_ms GREATER vpage_p99_ms)
expect("one partition dropped" vretention_partitions_dropped EQUAL 1)
expect("a partition per day" NOT vpartitions LESS vdays)
file(REMOVE_RECURSE "${WORK}")
