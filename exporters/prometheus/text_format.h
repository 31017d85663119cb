// Prometheus text exposition format 0.0.4 from model::Metric snapshots, following the
// OpenTelemetry -> Prometheus compatibility rules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/metrics.h"

namespace wirespan::exporters::prometheus {

struct TextFormatOptions {
  // job/instance labels on every series from service.namespace/service.name and
  // service.instance.id, and one target_info{...resource attributes...} 1 series per resource.
  bool resource_labels = true;
  bool target_info = true;
};

// Families are sorted by name; series keep their collection order. Rules:
//  - names: characters outside [a-zA-Z0-9_:] become '_', a leading digit gets a '_' prefix,
//    runs of '_' collapse; the unit becomes a suffix (s -> _seconds, By -> _bytes,
//    ms -> _milliseconds, 1 -> _ratio on gauges, {annotations} dropped, X/Y -> X_per_Y);
//  - monotonic Sums are counters named ..._total; non-monotonic Sums and Gauges are gauges;
//  - histograms: _bucket{le="..."} (cumulative, ending with le="+Inf"), _sum, _count;
//  - label names sanitized the same way (two attributes mapping to one name: values joined
//    with ';'), values escaped (\\, \", \n); HELP text escaped (\\, \n).
std::string RenderText(const std::vector<model::Metric>& metrics,
                       const TextFormatOptions& options = {});

std::string SanitizeName(std::string_view name);
std::string SanitizeLabelName(std::string_view name);
// The Prometheus family name of a metric (unit suffix and _total included).
std::string FamilyName(const model::Metric& metric);
// Prometheus float formatting: shortest round-trip, +Inf, -Inf, NaN.
std::string FormatValue(double value);

}  // namespace wirespan::exporters::prometheus
