// Umbrella header: the whole public API of imprecise's core and simulator (imprecise::imprecise).
#pragma once

#include "imprecise/config.hpp"
#include "imprecise/error.hpp"
#include "imprecise/core/job.hpp"
#include "imprecise/core/model.hpp"
#include "imprecise/core/outcome.hpp"
#include "imprecise/core/profile.hpp"
#include "imprecise/core/time.hpp"
#include "imprecise/core/utility.hpp"
#include "imprecise/sched/planner.hpp"
#include "imprecise/sched/policy.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/replay.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"
#include "imprecise/sim/workload.hpp"
