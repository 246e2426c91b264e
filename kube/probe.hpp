// `k8s-watch-server probe`: an operator's check of connectivity,
// credentials, discovery and one watch.
#pragma once

namespace kws::kube {

/// Runs the probe command. Flags: `--kubeconfig PATH`, `--context NAME`,
/// `--watch RESOURCE` (any name the resolver accepts), `--seconds N`
/// (default 10). Prints every discovered resource type (group/version,
/// kind, plural, namespaced), then, with `--watch`, one line per event for
/// N seconds: type, namespace/name, resourceVersion. `argv[0]` is the
/// command name ("probe"). Returns the process exit code.
int run_probe(int argc, char** argv);

} // namespace kws::kube
