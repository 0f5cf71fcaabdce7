// ProgramBuilder: layouts of the activations within one batch size's program, reorders where needed.
#include "program_builder.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace imprecise::nn::onednn {

memory::dims ProgramBuilder::dims(std::size_t v) const {
  memory::dims d(s_.values.at(v).shape.begin(), s_.values.at(v).shape.end());
  d[0] = batch_;
  return d;
}

memory::desc ProgramBuilder::plain_desc(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc ProgramBuilder::carry_desc(const memory::dims& dims) {
  using tag = memory::format_tag;
  switch (dims.size()) {
    case 3: return memory::desc(dims, memory::data_type::f32, tag::acb);
    case 4: return memory::desc(dims, memory::data_type::f32, tag::acdb);
    case 5: return memory::desc(dims, memory::data_type::f32, tag::acdeb);
    default: return plain_desc(dims);
  }
}

memory ProgramBuilder::input_memory(std::size_t v) {
  // A stage input: the caller's tensor, its handle set at each run.
  memory m(s_.values[v].carried ? carry_desc(v) : plain_desc(v), s_.engine, DNNL_MEMORY_NONE);
  p_.input_views.emplace_back(static_cast<std::size_t>(s_.values[v].input), m);
  produced_.emplace(v, m);
  return m;
}

memory ProgramBuilder::current(std::size_t v) {
  const auto it = produced_.find(v);
  return it != produced_.end() ? it->second : input_memory(v);
}

memory ProgramBuilder::need(std::size_t v, const memory::desc& want) { return convert(v, want, false); }

memory ProgramBuilder::plain(std::size_t v) {
  if (s_.values.at(v).input >= 0 && !s_.values[v].carried) return current(v);
  return convert(v, plain_desc(v), true);
}

memory ProgramBuilder::carry(std::size_t v) {
  if (s_.values.at(v).input >= 0) return current(v);
  const memory have = current(v);
  const memory::desc want = carry_desc(v);
  if (have.get_desc() == want && have.get_data_handle() == s_.carry_data(v)) return have;
  return reorder_into(v, have, want, s_.carry_data(v), &p_.carry_views);
}

memory ProgramBuilder::reorder_into(std::size_t v, const memory& have, const memory::desc& want, float* data,
                                    std::vector<std::pair<std::size_t, memory>>* views) {
  memory to(want, s_.engine, data);
  if (views != nullptr) views->emplace_back(v, to);
  const dnnl::reorder::primitive_desc pd(have, to, user_scratchpad());
  call(dnnl::reorder(pd), {{DNNL_ARG_SRC, have}, {DNNL_ARG_DST, to}}, pd.scratchpad_desc());
  return to;
}

memory ProgramBuilder::convert(std::size_t v, const memory::desc& want, bool into_plain_tensor) {
  const memory have = current(v);
  auto usable = [&](const memory& m) {
    return m.get_desc() == want && (!into_plain_tensor || m.get_data_handle() == s_.plain_data(v));
  };
  if (usable(have)) return have;
  std::size_t count = 0;
  for (const auto& [value, m] : converted_) {
    if (value != v) continue;
    if (usable(m)) return m;
    ++count;
  }
  const memory to = into_plain_tensor
                        ? reorder_into(v, have, want, s_.plain_data(v), &p_.plain_views)
                        : reorder_into(v, have, want, s_.native_buffer(fmt::format("{}:as{}", v, count), want.get_size()), nullptr);
  converted_.emplace_back(v, to);
  return to;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory ProgramBuilder::view(const memory& m, const memory::desc& as) {
  memory out(as, s_.engine, m.get_data_handle());
  // The view's handle follows its base's when that is re-pointed at each run.
  for (auto* views : {&p_.input_views, &p_.plain_views, &p_.carry_views}) {
    const auto base = std::find_if(views->begin(), views->end(), [&](const auto& e) { return e.second.get() == m.get(); });
    if (base != views->end()) {
      const std::size_t index = base->first;
      views->emplace_back(index, out);
    }
  }
  p_.memories.push_back(out);
  return out;
}

memory ProgramBuilder::output(std::size_t v, const memory::desc& desc) {
  // A carried output in the carry layout is produced where run() returns it: the boundary costs no copy.
  if (s_.values.at(v).carried_out && desc == carry_desc(v)) return produce(v, desc, s_.carry_data(v), &p_.carry_views);
  if (desc == plain_desc(v)) return output_plain(v);
  return produce(v, desc, s_.native_buffer(fmt::format("{}:out", v), desc.get_size()), nullptr);
}

memory ProgramBuilder::output_plain(std::size_t v) { return produce(v, plain_desc(v), s_.plain_data(v), &p_.plain_views); }

memory ProgramBuilder::produce(std::size_t v, const memory::desc& desc, float* data,
                               std::vector<std::pair<std::size_t, memory>>* views) {
  memory m(desc, s_.engine, data);
  if (views != nullptr) views->emplace_back(v, m);
  produced_.insert_or_assign(v, m);
  return m;
}

void ProgramBuilder::call(const dnnl::primitive& primitive, const std::vector<std::pair<int, memory>>& args,
                          const memory::desc& scratchpad) {
  Call c{primitive, {}, scratchpad};
  for (const auto& [arg, m] : args) {
    c.args.push_back({arg, m.get()});
    p_.memories.push_back(m);
  }
  p_.actions.push_back({false, p_.calls.size()});
  p_.calls.push_back(std::move(c));
}

void ProgramBuilder::fallback(std::size_t index) {
  Fallback& f = s_.fallbacks.at(index);
  for (const std::size_t in : f.inputs) {
    if (in >= kConstant) continue;
    plain(in);
  }
  output_plain(f.output);
  p_.actions.push_back({true, index});
  p_.has_fallbacks = true;
}

memory ProgramBuilder::weights(const std::string& key, const std::vector<float>& data, const memory::desc& plain,
                               const memory::desc& want) {
  for (const auto& [k, m] : s_.weights)
    if (k == key && m.get_desc() == want) return m;
  s_.weight_storage.push_back(std::make_unique<AlignedBuffer>(want.get_size()));
  memory to(want, s_.engine, s_.weight_storage.back()->data());
  const memory from(plain, s_.engine, const_cast<float*>(data.data()));
  dnnl::stream stream(s_.engine);
  dnnl::reorder(from, to).execute(stream, const_cast<memory&>(from), to);
  stream.wait();
  s_.weights.emplace_back(key, to);
  return to;
}

}  // namespace imprecise::nn::onednn
