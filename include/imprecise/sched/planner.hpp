// Planners: choose how deep each pending job goes at one decision point (yao-dp, density, exhaustive).
#pragma once

#include "imprecise/sched/density_planner.hpp"
#include "imprecise/sched/dp_planner.hpp"
#include "imprecise/sched/exhaustive_planner.hpp"
#include "imprecise/sched/plan_problem.hpp"
