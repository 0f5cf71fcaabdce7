// Umbrella header: the whole public API of imprecise.
#pragma once

#include "imprecise/error.hpp"
#include "imprecise/job.hpp"
#include "imprecise/model.hpp"
#include "imprecise/outcome.hpp"
#include "imprecise/planner.hpp"
#include "imprecise/policy.hpp"
#include "imprecise/profile.hpp"
#include "imprecise/sim/jobs.hpp"
#include "imprecise/sim/metrics.hpp"
#include "imprecise/sim/replay.hpp"
#include "imprecise/sim/scenario.hpp"
#include "imprecise/sim/simulator.hpp"
#include "imprecise/sim/workload.hpp"
#include "imprecise/time.hpp"
#include "imprecise/utility.hpp"
