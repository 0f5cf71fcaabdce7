// run_every_exit(): anytime inference of one input, printing every exit's answer as a scheduler sees it
// (shared by the vision, voice and LIDAR examples; header-only, examples/<name>/ include it relatively).
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

#include <fmt/core.h>

#include "imprecise/nn/multi_exit_model.hpp"

namespace imprecise::examples {

/// Runs every stage of `model` on `input` and prints, per exit: mandatory/optional, exit name, label,
/// confidence, stage and running time, and "correct"/"wrong" when `truth` >= 0. Returns the last exit's result.
inline nn::ExitResult run_every_exit(nn::MultiExitModel& model, const nn::Tensor& input, int truth = -1) {
  std::size_t name_width = 0, label_width = 0;
  for (const std::string& n : model.exit_names()) name_width = std::max(name_width, n.size());
  for (const std::string& l : model.labels()) label_width = std::max(label_width, l.size());
  // Anytime inference: every stage ends in an answer; a scheduler may stop after any of them.
  nn::JobState job = model.start(input);
  nn::ExitResult last;
  double total_ms = 0.0;
  for (int k = 0; k < model.stages(); ++k) {
    const auto started = std::chrono::steady_clock::now();
    last = model.run_stage(k, job);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    total_ms += ms;
    fmt::print("  {} {:<{}} {:<{}} confidence {:.3f}  stage {:6.3f} ms  total {:6.3f} ms{}\n",
               k < model.mandatory_depth() ? "mandatory" : "optional ", model.exit_names()[static_cast<std::size_t>(k)],
               name_width, model.labels()[static_cast<std::size_t>(last.prediction)], label_width, last.confidence, ms,
               total_ms, truth < 0 ? "" : (last.prediction == truth ? "  correct" : "  wrong"));
  }
  return last;
}

}  // namespace imprecise::examples
