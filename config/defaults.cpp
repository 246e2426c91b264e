#include "config/settings.hpp"

namespace kws::config {

std::vector<resource_type> default_resources() {
  return {
    {"", "v1", "Pod", "pods", true},
    {"", "v1", "Node", "nodes", false},
    {"", "v1", "Namespace", "namespaces", false},
    {"", "v1", "Service", "services", true},
    {"", "v1", "ConfigMap", "configmaps", true},
    {"", "v1", "Secret", "secrets", true},
    {"", "v1", "PersistentVolume", "persistentvolumes", false},
    {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
    {"", "v1", "Event", "events", true},
    {"apps", "v1", "Deployment", "deployments", true},
    {"apps", "v1", "ReplicaSet", "replicasets", true},
    {"apps", "v1", "StatefulSet", "statefulsets", true},
    {"apps", "v1", "DaemonSet", "daemonsets", true},
    {"batch", "v1", "Job", "jobs", true},
    {"batch", "v1", "CronJob", "cronjobs", true},
    {"networking.k8s.io", "v1", "Ingress", "ingresses", true},
    {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true},
  };
}

} // namespace kws::config
