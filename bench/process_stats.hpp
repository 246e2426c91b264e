// Peak memory of the benchmark process, per phase.
#pragma once

namespace kws::bench {

/// Peak RSS in KiB since the start or since the last `reset_peak_rss`
/// (VmHWM; getrusage's maximum cannot be reset).
long peak_rss_kib();

/// Starts the peak RSS over from the current RSS, so a phase's peak is its
/// own (Linux: writing 5 to clear_refs resets VmHWM).
void reset_peak_rss();

} // namespace kws::bench
