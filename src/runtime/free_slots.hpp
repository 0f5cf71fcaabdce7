// FreeSlots: the engine's free job slots, kept per model whose tensors each one holds, so that a new job
// mostly gets a slot already shaped for its model and MultiExitModel::restart copies only its input.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "imprecise/core/model.hpp"

namespace imprecise::runtime::detail {

class FreeSlots {
 public:
  /// Room for `slots` slots over `models` models, all free and never used (handed out from slot 0 up).
  void reset(std::size_t slots, std::size_t models) {
    stacks_.assign(models + 1, {});
    for (auto& s : stacks_) s.reserve(slots);
    for (std::size_t i = 0; i < slots; ++i) stacks_.back().push_back(static_cast<std::uint32_t>(slots - 1 - i));
    count_ = slots;
  }
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }

  /// A slot for a job of `model`: the last freed one that held `model`, else one never used, else the
  /// last freed of the model with most free slots (its tensors are re-shaped then). None when all are taken.
  std::optional<std::uint32_t> take(ModelId model) {
    std::vector<std::uint32_t>* from = nullptr;
    if (const std::size_t m = stack_of(model); !stacks_[m].empty()) {
      from = &stacks_[m];
    } else if (!stacks_.back().empty()) {
      from = &stacks_.back();
    } else {
      for (auto& s : stacks_)
        if (from == nullptr || s.size() > from->size()) from = &s;
    }
    if (from == nullptr || from->empty()) return std::nullopt;
    const std::uint32_t index = from->back();
    from->pop_back();
    --count_;
    return index;
  }
  /// Frees `index`, whose tensors are shaped for `model` (-1 or out of range: for none).
  void give_back(std::uint32_t index, ModelId model) {
    stacks_[stack_of(model)].push_back(index);
    ++count_;
  }

 private:
  std::size_t stack_of(ModelId model) const {
    const std::size_t unused = stacks_.size() - 1;
    return model >= 0 && static_cast<std::size_t>(model) < unused ? static_cast<std::size_t>(model) : unused;
  }
  std::vector<std::vector<std::uint32_t>> stacks_;  // per model, then the never-used ones
  std::size_t count_ = 0;
};

}  // namespace imprecise::runtime::detail
