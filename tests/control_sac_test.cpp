// sac: the observation/action encoding, and the ONNX actor run on our engine (tests/fixtures/control, made by
// scripts/make_control_fixtures.py: 2 models, 2 lanes).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "control_fixtures.hpp"
#include "imprecise/control/controllers.hpp"
#include "imprecise/control/sac_features.hpp"
#include "imprecise/error.hpp"
#include "imprecise/graph/npy.hpp"

namespace imprecise {
namespace {

using namespace imprecise::control;

const std::string kFixtures = std::string(IMPRECISE_SOURCE_DIR) + "/tests/fixtures/control/";

std::vector<Model> two_models() {
  std::vector<Model> m = testing::three_models();
  m.pop_back();
  return m;
}

ControllerConfig two_lanes(const std::string& actor = "") {
  ControllerConfig config;
  config.lanes = 2;
  config.max_batch = 8;
  config.max_batch_wait = from_ms(10);
  config.actor = actor.empty() ? "" : kFixtures + actor;
  return config;
}

TEST(SacFeatures, SizesAndLayout) {
  const ControllerConfig config = two_lanes();
  EXPECT_EQ(observation_size(2), 21);
  EXPECT_EQ(action_logits_per_model(config), 4 + 5 + 2);
  EXPECT_EQ(action_size(3, config), 33);
}

TEST(SacFeatures, EncodeObservation) {
  const std::vector<Model> models = two_models();  // model 0: 1 ms mandatory stage -> 1000 jobs/s at batch 1
  const ControllerConfig config = two_lanes();
  ModelWindow w;
  w.arrived = 50;  // 500 / s over 100 ms
  w.answered = 40;
  w.completed = 30;
  w.missed = 6;
  w.rejected = 2;
  w.latency_mean = from_ms(5);
  w.latency_p99 = from_ms(300);  // 30 x slo: clipped
  w.slo = from_ms(10);
  w.pending = 4;
  w.mean_batch = 2.0;
  const std::vector<ModelWindow> windows{w, ModelWindow{}};
  const std::vector<ModelControl> current{ModelControl{4, from_ms(2.5), 1}, ModelControl{}};
  const ControlObservation o{0, from_ms(100), 2, 0.25, windows, current, {}};
  std::vector<float> f(21, -1.0f);
  encode_observation(o, models, config, f);
  const std::vector<float> expected0{0.5f, 0.75f, 0.2f, 0.5f, kFeatureClip, 0.25f, 0.5f, 0.25f, 0.5f, 0.25f};
  for (int i = 0; i < kFeaturesPerModel; ++i) EXPECT_FLOAT_EQ(f[static_cast<std::size_t>(i)], expected0[static_cast<std::size_t>(i)]) << i;
  // Model 1 saw nothing; its "policy default" and "all lanes" settings read as the largest.
  const std::vector<float> expected1{0, 0, 0, 0, 0, 0, 1, 0, 1, 0};
  for (int i = 0; i < kFeaturesPerModel; ++i) EXPECT_FLOAT_EQ(f[static_cast<std::size_t>(10 + i)], expected1[static_cast<std::size_t>(i)]) << i;
  EXPECT_FLOAT_EQ(f[20], 0.25f);
  std::vector<float> short_out(20);
  EXPECT_THROW(encode_observation(o, models, config, short_out), Error);
}

TEST(SacFeatures, TheLoadFeatureReadsTheTableForTheHostsLanes) {
  // On two lanes the host plans with the 2-lane table (and, serving, updates that one online): a model
  // whose stages run twice as slow there is twice as loaded at the same arrival rate.
  std::vector<Model> models = two_models();
  const ControllerConfig config = two_lanes();
  ModelWindow w;
  w.arrived = 50;  // 500 / s over 100 ms, against 1000 / s alone
  const std::vector<ModelWindow> windows{w, ModelWindow{}};
  const std::vector<ModelControl> current(2);
  const ControlObservation o{0, from_ms(100), 2, 0.0, windows, current, {}};
  std::vector<float> f(21);
  encode_observation(o, models, config, f);
  EXPECT_FLOAT_EQ(f[0], 0.5f) << "no 2-lane table: the 1-lane one";
  Profile slower = models[0].profile;
  for (int s = 0; s < slower.stages(); ++s)
    for (std::size_t c = 0; c < slower.batch_sizes().size(); ++c) {
      const StageTiming t = slower.table()[static_cast<std::size_t>(s)][c];
      slower.set_timing(s, c, StageTiming{2 * t.mean, 2 * t.p50, 2 * t.p99, 2 * t.max});
    }
  models[0].concurrent.push_back(slower);
  encode_observation(o, models, config, f);
  EXPECT_FLOAT_EQ(f[0], 1.0f) << "the 2-lane table, twice as slow";
  ControllerConfig one_lane = config;
  one_lane.lanes = 1;
  encode_observation(o, models, one_lane, f);
  EXPECT_FLOAT_EQ(f[0], 0.5f) << "one lane: the 1-lane table";
}

TEST(SacFeatures, ArgmaxDecodeAndEncodeAgree) {
  const ControllerConfig config = two_lanes();
  std::vector<float> logits(22, 0.0f);
  logits[3] = 1;          // model 0 batch 8
  logits[4 + 4] = 1;      // wait 5 ms
  logits[9 + 0] = 1;      // 1 lane
  logits[11 + 1] = 2;     // model 1 batch 2
  logits[15 + 2] = 2;     // wait: a tie of 1 ms and 5 ms -> the first, 1 ms
  logits[15 + 4] = 2;
  logits[20 + 1] = 1;     // 2 lanes
  std::vector<int> choice(6);
  argmax_action(logits, config, choice);
  EXPECT_EQ(choice, (std::vector<int>{3, 4, 0, 1, 2, 1}));
  std::vector<ModelControl> controls(2);
  decode_action(choice, config, controls);
  EXPECT_EQ(controls[0], (ModelControl{8, from_ms(5), 1}));
  EXPECT_EQ(controls[1], (ModelControl{2, from_ms(1), 2}));
  std::vector<int> back(6);
  encode_action(controls, config, back);
  EXPECT_EQ(back, choice);
  // Clamped to the config's limits; an index out of range names its branch.
  ControllerConfig small = config;
  small.max_batch = 4;
  small.max_batch_wait = from_ms(2);
  decode_action(choice, small, controls);
  EXPECT_EQ(controls[0], (ModelControl{4, from_ms(2), 1}));
  choice[2] = 2;
  try {
    decode_action(choice, config, controls);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'lanes'"), std::string::npos) << e.what();
  }
}

/// Decides over a window where model 0 is loaded and model 1 idle.
std::vector<ModelControl> decide(Controller& c, std::vector<float>* features = nullptr) {
  const std::vector<Model> models = two_models();
  ModelWindow w;
  w.arrived = 120;
  w.answered = 100;
  w.completed = 90;
  w.missed = 10;
  w.latency_mean = from_ms(4);
  w.latency_p99 = from_ms(12);
  w.slo = from_ms(15);
  w.pending = 7;
  w.mean_batch = 3;
  const std::vector<ModelWindow> windows{w, ModelWindow{}};
  std::vector<ModelControl> next{ModelControl{2, 0, 1}, ModelControl{1, 0, 2}};
  const ControlObservation o{0, from_ms(100), 2, 0.6, windows, next, {}};
  if (features != nullptr) {
    features->assign(21, 0.0f);
    encode_observation(o, models, two_lanes(), *features);
  }
  std::vector<ModelControl> out = next;
  c.decide(o, out);
  return out;
}

TEST(SacController, BiasActorChoosesItsArgmax) {
  const std::vector<Model> models = two_models();
  auto c = make_controller("sac", models, two_lanes("actor_bias.onnx"));
  EXPECT_EQ(c->name(), "sac");
  const std::vector<ModelControl> next = decide(*c);
  EXPECT_EQ(next[0], (ModelControl{4, from_ms(1), 2}));
  EXPECT_EQ(next[1], (ModelControl{1, 0, 1}));
}

TEST(SacController, ReadsTheHostsModelsAndRefusesAnotherCount) {
  // The observation's capacities come from the host's planning models (in the runtime: profiled while
  // serving), so a host with another number of models than the actor was built for is an error.
  const std::vector<Model> models = two_models();
  auto c = make_controller("sac", models, two_lanes("actor_bias.onnx"));
  const std::vector<ModelWindow> windows(2);
  const std::vector<ModelControl> current(2);
  std::vector<ModelControl> next = current;
  const ControlObservation same{0, from_ms(100), 2, 0.5, windows, current, models};
  EXPECT_NO_THROW(c->decide(same, next));
  const std::vector<Model> one(models.begin(), models.begin() + 1);
  const ControlObservation other{0, from_ms(100), 2, 0.5, windows, current, one};
  try {
    c->decide(other, next);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("built for 2 models, but the host plans 1"), std::string::npos) << e.what();
  }
}

/// actor_mlp's logits for `x`, relu(x W1 + b1) W2 + b2 in plain loops from its saved weights.
std::vector<float> mlp_reference(const std::vector<float>& x) {
  const nn::Tensor w1 = nn::read_npy(kFixtures + "actor_mlp.w1.npy"), b1 = nn::read_npy(kFixtures + "actor_mlp.b1.npy");
  const nn::Tensor w2 = nn::read_npy(kFixtures + "actor_mlp.w2.npy"), b2 = nn::read_npy(kFixtures + "actor_mlp.b2.npy");
  const std::size_t in = 21, hidden = 16, out = 22;
  EXPECT_EQ(x.size(), in);
  EXPECT_EQ(w1.size(), in * hidden);
  EXPECT_EQ(w2.size(), hidden * out);
  std::vector<float> h(hidden), logits(out);
  for (std::size_t j = 0; j < hidden; ++j) {
    float s = b1[j];
    for (std::size_t i = 0; i < in; ++i) s += x[i] * w1[i * hidden + j];
    h[j] = std::max(0.0f, s);
  }
  for (std::size_t k = 0; k < out; ++k) {
    float s = b2[k];
    for (std::size_t j = 0; j < hidden; ++j) s += h[j] * w2[j * out + k];
    logits[k] = s;
  }
  return logits;
}

TEST(SacController, MlpActorMatchesTheReferenceFromItsWeights) {
  const std::vector<Model> models = two_models();
  auto c = make_controller("sac:" + kFixtures + "actor_mlp.onnx", models, two_lanes());
  std::vector<float> x;
  const std::vector<ModelControl> next = decide(*c, &x);
  const std::vector<float> logits = mlp_reference(x);
  std::vector<int> choice(6);
  argmax_action(logits, two_lanes(), choice);
  std::vector<ModelControl> expected(2);
  decode_action(choice, two_lanes(), expected);
  EXPECT_EQ(next, expected);
}

TEST(SacController, AnActorThatNamesItsModelsGivesEachOfTheHostsModelsItsOwnSlot) {
  // The host lists "a", "b"; the actor was trained for "b", "a" (a model repository reads its folders
  // alphabetically, the training scenario lists them as it likes).
  const std::vector<Model> models = two_models();
  auto bias = make_controller("sac:" + kFixtures + "actor_bias_named.onnx", models, two_lanes());
  const std::vector<ModelControl> chosen = decide(*bias);
  EXPECT_EQ(chosen[1], (ModelControl{4, from_ms(1), 2})) << "the actor's model 0 is the host's 'b'";
  EXPECT_EQ(chosen[0], (ModelControl{1, 0, 1}));

  // The MLP's reference, with the features moved to the actor's order and the settings moved back.
  auto named = make_controller("sac:" + kFixtures + "actor_mlp_named.onnx", models, two_lanes());
  auto plain = make_controller("sac:" + kFixtures + "actor_mlp.onnx", models, two_lanes());
  std::vector<float> x;
  const std::vector<ModelControl> next = decide(*named, &x);
  std::vector<float> swapped(x.begin() + 10, x.begin() + 20);
  swapped.insert(swapped.end(), x.begin(), x.begin() + 10);
  swapped.push_back(x[20]);
  const std::vector<float> logits = mlp_reference(swapped);
  std::vector<int> choice(6);
  argmax_action(logits, two_lanes(), choice);
  std::vector<ModelControl> by_slot(2);
  decode_action(choice, two_lanes(), by_slot);
  EXPECT_EQ(next[1], by_slot[0]);
  EXPECT_EQ(next[0], by_slot[1]);
  EXPECT_NE(next, decide(*plain)) << "the same weights in the host's order decide otherwise on this window";
}

void expect_error_naming(const std::string& actor, const std::string& what) {
  const std::vector<Model> models = two_models();
  try {
    make_controller("sac", models, two_lanes(actor));
    FAIL() << actor << ": no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(actor), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
}

TEST(SacController, BadActorsNameTheFile) {
  expect_error_naming("actor_corrupt.onnx", "");
  expect_error_naming("actor_wrong_shape.onnx", "[N, 21]");
  expect_error_naming("no_such_actor.onnx", "");
  expect_error_naming("actor_unknown_model.onnx", "model 'z', which the host does not serve (a, b)");
  // Right file, wrong host: three lanes change the action's size.
  const std::vector<Model> models = two_models();
  ControllerConfig three = two_lanes("actor_mlp.onnx");
  three.lanes = 3;
  EXPECT_THROW(make_controller("sac", models, three), Error);
  EXPECT_THROW(make_controller("sac", models, two_lanes()), Error);  // no actor at all
}

}  // namespace
}  // namespace imprecise
