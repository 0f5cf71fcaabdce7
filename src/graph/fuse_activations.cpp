// Load-time rewrite of the opset-13 spellings PyTorch 1.13 exports for two activations into their ONNX
// operators, so a backend runs one primitive instead of five or two:
//   GELU:      Div(x, sqrt 2) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5)   =>  Gelu(x)
//   Hardswish: HardSigmoid(x; alpha 1/6, beta 1/2) -> Mul(x, .)                 =>  HardSwish(x)
// Only where every intermediate has that one reader (no other node, no later stage, no exit reads it).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "op_shapes.hpp"

namespace imprecise::nn::detail {

namespace {

bool near(float have, double want) { return std::abs(static_cast<double>(have) - want) <= 1e-6 * std::abs(want); }

class Fuser {
 public:
  explicit Fuser(Graph& g) : g_(g) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& input : g.nodes[i].inputs) {
        ++readers_[input];
        reader_[input] = i;
      }
    for (const auto& output : g.outputs) ++readers_[output.name];
    for (std::size_t i = 0; i < g.nodes.size(); ++i) producer_[g.nodes[i].outputs[0]] = i;
  }

  void run() {
    std::vector<bool> drop(g_.nodes.size(), false);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      if (g_.nodes[i].op == "Erf")
        gelu(i, drop);
      else if (g_.nodes[i].op == "HardSigmoid")
        hard_swish(i, drop);
    }
    std::vector<Node> kept;
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      if (!drop[i]) kept.push_back(std::move(g_.nodes[i]));
    g_.nodes = std::move(kept);
  }

 private:
  // The node that alone reads tensor t (no other node, no exit), if it is a binary `op`.
  const Node* sole(const std::string& t, const char* op) const {
    const auto r = readers_.find(t);
    const auto n = reader_.find(t);
    if (r == readers_.end() || r->second != 1 || n == reader_.end()) return nullptr;
    const Node& node = g_.nodes[n->second];
    return node.op == op && node.inputs.size() == 2 ? &node : nullptr;
  }
  static const std::string& other_input(const Node& node, const std::string& t) {
    return node.inputs[0] == t ? node.inputs[1] : node.inputs[0];
  }
  bool scalar(const std::string& t, double value) const {
    const Constant* c = g_.find_constant(t);
    return c != nullptr && c->type == ElementType::float32 && c->floats.size() == 1 && near(c->floats[0], value);
  }
  std::size_t index(const Node* node) const { return static_cast<std::size_t>(node - g_.nodes.data()); }

  void gelu(std::size_t erf, std::vector<bool>& drop) {
    const Node& e = g_.nodes[erf];
    const auto p = producer_.find(e.inputs[0]);
    if (p == producer_.end()) return;
    const Node& div = g_.nodes[p->second];
    if (div.op != "Div" || div.inputs.size() != 2 || !scalar(div.inputs[1], std::sqrt(2.0)) ||
        readers_.at(div.outputs[0]) != 1 || g_.is_constant(div.inputs[0]))
      return;
    const std::string& x = div.inputs[0];
    const Node* add = sole(e.outputs[0], "Add");
    if (add == nullptr || !scalar(other_input(*add, e.outputs[0]), 1.0)) return;
    const Node* mul = sole(add->outputs[0], "Mul");
    if (mul == nullptr || other_input(*mul, add->outputs[0]) != x) return;
    const Node* half = sole(mul->outputs[0], "Mul");
    if (half == nullptr || !scalar(other_input(*half, mul->outputs[0]), 0.5)) return;
    for (const Node* n : {&div, &e, add, mul}) drop[index(n)] = true;
    replace(index(half), "Gelu", x, e.name);
  }

  void hard_swish(std::size_t i, std::vector<bool>& drop) {
    const Node& hs = g_.nodes[i];
    if (!near(hs.attr_float("alpha", 0.2f), 1.0 / 6.0) || !near(hs.attr_float("beta", 0.5f), 0.5)) return;
    const std::string& x = hs.inputs[0];
    const Node* mul = sole(hs.outputs[0], "Mul");
    if (mul == nullptr || other_input(*mul, hs.outputs[0]) != x) return;
    drop[i] = true;
    replace(index(mul), "HardSwish", x, hs.name);
  }

  // Node `at` (the pattern's last, so x is defined before it) becomes op(x), keeping its output.
  void replace(std::size_t at, const char* op, const std::string& x, const std::string& name) {
    Node& n = g_.nodes[at];
    n.op = op;
    n.name = name;
    n.inputs = {x};
    n.attributes.clear();
  }

  Graph& g_;
  std::map<std::string, int> readers_;
  std::map<std::string, std::size_t> reader_, producer_;
};

}  // namespace

void fuse_activations(Graph& graph) { Fuser(graph).run(); }

}  // namespace imprecise::nn::detail
