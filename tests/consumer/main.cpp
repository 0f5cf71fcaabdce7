// Consumer of an installed imprecise: plans two jobs with the DP planner and checks the answer.
#include <imprecise/imprecise.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#ifdef IMPRECISE_CONSUMER_HAS_NN
#include <imprecise/nn/backend.hpp>
#endif
#ifdef IMPRECISE_CONSUMER_HAS_RUNTIME
#include <imprecise/data/calibration.hpp>
#include <imprecise/error.hpp>
#include <imprecise/runtime/engine.hpp>
#endif
#ifdef IMPRECISE_CONSUMER_HAS_CLIENT
#include <imprecise/client/client.hpp>
#include <inference/grpc_predict_v2.pb.h>
#ifdef IMPRECISE_CONSUMER_HAS_HTTP_CLIENT
#include <imprecise/client/http_client.hpp>
#endif

#include <chrono>
#endif

int main() {
  using namespace imprecise;
  // Two 3-stage jobs, 3 ms per stage. Deadlines 10 ms and 16 ms: job 0 can go to depth 3 (9 ms), and
  // then job 1 to depth 2 (15 ms); that beats every other feasible pair (best reward 0.9 + 0.8).
  const std::vector<Duration> cost{0, from_ms(3), from_ms(6), from_ms(9)};
  const std::vector<double> reward0{0.0, 0.5, 0.7, 0.9};
  const std::vector<double> reward1{0.0, 0.6, 0.8, 0.95};
  PlanProblem problem;
  problem.reset(0);
  problem.add(from_ms(10), 0, 1, 3, cost, reward0);
  problem.add(from_ms(16), 0, 1, 3, cost, reward1);

  DpPlanner planner;
  const Plan& plan = planner.solve(problem, 0.01);
  const bool ok = plan.feasible && plan.dropped == 0 && plan.depths == std::vector<int>{3, 2} &&
                  std::fabs(plan.total_reward - 1.7) < 1e-9 && problem.feasible(plan.depths);
  std::printf("imprecise consumer: depths {%d, %d}, reward %.3f, dropped %d -> %s\n",
              plan.depths.size() > 0 ? plan.depths[0] : -1, plan.depths.size() > 1 ? plan.depths[1] : -1,
              plan.total_reward, plan.dropped, ok ? "ok" : "WRONG");
#ifdef IMPRECISE_CONSUMER_HAS_NN
  const bool cpu = imprecise::nn::BackendRegistry::get().find("cpu") != nullptr;
  std::printf("imprecise consumer: nn backend 'cpu' %s\n", cpu ? "registered" : "MISSING");
  if (!cpu) return 1;
#endif
#ifdef IMPRECISE_CONSUMER_HAS_RUNTIME
  // The runtime's and data's symbols resolve from the installed archives: a config, and the public
  // calibration reader refusing a file that does not exist (an Error, not a crash).
  imprecise::runtime::EngineConfig config;
  bool refused = false;
  try {
    imprecise::data::load_calibration("no/such/model.calibration.json");
  } catch (const imprecise::Error&) {
    refused = true;
  }
  std::printf("imprecise consumer: runtime policy '%s', load_calibration %s\n", config.policy.c_str(),
              refused ? "refuses a missing file" : "WRONG");
  if (!refused) return 1;
#endif
#ifdef IMPRECISE_CONSUMER_HAS_CLIENT
  // The client links and runs: nothing listens on port 1, so the server is not live; the installed
  // generated stubs build a request.
  imprecise::client::Client client({.target = "127.0.0.1:1"});
  const bool live = client.live(std::chrono::milliseconds(200));
  inference::ModelInferRequest request;
  request.set_model_name("vision");
  std::printf("imprecise consumer: client live on a closed port %s, request for '%s'\n", live ? "WRONG" : "false",
              request.model_name().c_str());
  if (live) return 1;
#ifdef IMPRECISE_CONSUMER_HAS_HTTP_CLIENT
  imprecise::client::HttpClient http({.host = "127.0.0.1", .port = 1, .connections = 1});
  const bool http_live = http.live(std::chrono::milliseconds(200));
  std::printf("imprecise consumer: HTTP client live on a closed port %s\n", http_live ? "WRONG" : "false");
  if (http_live) return 1;
#endif
#endif
  return ok ? 0 : 1;
}
