// jemalloc's settings, compiled into each executable that links jemalloc
// (jemalloc reads this symbol when it starts). Measured with kws_bench's
// pipeline ingest (300,000 events, README "Allocator"): jemalloc's defaults
// ingest 30 % faster than glibc's malloc but peak at 400 MB instead of
// 275 MB; two arenas and a decay of dirty pages within a second, purged by
// a background thread, keep the rate (28 % faster) at about 300 MB.
// Purging at once (decay 0) halves the rate.
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
const char* malloc_conf
  = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0,background_thread:true";
}
