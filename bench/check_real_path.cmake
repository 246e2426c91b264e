# Runs kws_real_path_bench on a few thousand events into a temporary
# directory and checks that the result holds every field and that every
# event the apiserver wrote was stored exactly once. Timing goals are not
# checked here (bench/run --real-path reports them).
#
#   cmake -DBENCH=<kws_real_path_bench> -DWORK=<dir> -P check_real_path.cmake
cmake_minimum_required(VERSION 3.25)
set(events 2000)
set(list_pods 50)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
# Every event at rate 0, then a short paced phase.
execute_process(
  COMMAND "${BENCH}" --events ${events} --rates 0,100 --phase-seconds 2
          --list-pods ${list_pods} --max-seconds 30 --drain-seconds 5
          --seed 3 --dir "${WORK}/scratch" --out "${WORK}/result.json"
  RESULT_VARIABLE rc
  ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kws_real_path_bench failed (${rc}):\n${log}")
endif()
file(READ "${WORK}/result.json" json)

set(fields
  real_path_events_per_s watch_lag_p50_s watch_lag_p99_s freshness_p50_ms
  freshness_p99_ms peak_rss_mb events events_stored events_missing
  events_duplicated events_unexpected events_gaps timed_out_phases list_items
  list_items_stored seconds)
foreach(m IN LISTS fields)
  string(JSON type ERROR_VARIABLE err TYPE "${json}" ${m})
  if(err OR NOT type STREQUAL "NUMBER")
    message(FATAL_ERROR "field ${m} missing or not a number in:\n${json}")
  endif()
  string(JSON v${m} GET "${json}" ${m})
endforeach()

function(expect what)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "expected ${what}: ${ARGN}\n${log}\n${json}")
  endif()
endfunction()

# Counts only: each event written stored once, nothing else stored.
string(JSON num_phases LENGTH "${json}" phases)
expect("two phases" num_phases EQUAL 2)
expect("events written" vevents GREATER 0)
expect("no event stored twice" vevents_duplicated EQUAL 0)
expect("nothing stored that was not written" vevents_unexpected EQUAL 0)
expect("no event lost before a stored one" vevents_gaps EQUAL 0)
expect("every listed pod stored" vlist_items_stored EQUAL ${vlist_items})
# The limits are generous bounds (30 s for 2,000 events), not timing goals:
# a phase that reaches one lost its way, and fails here.
expect("no phase reached its time limit" vtimed_out_phases EQUAL 0)
string(JSON sent0 GET "${json}" phases 0 events_sent)
expect("every event of the rate-0 phase written" sent0 EQUAL ${events})
expect("every event written stored" vevents_stored EQUAL ${vevents})
expect("no event missing" vevents_missing EQUAL 0)
expect("lag p50 <= p99" NOT vwatch_lag_p50_s GREATER vwatch_lag_p99_s)
expect("peak RSS measured" vpeak_rss_mb GREATER 0)
file(REMOVE_RECURSE "${WORK}")
