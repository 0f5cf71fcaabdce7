"""plan(): PlanProblems from Python lists, solved by yao-dp, density and the exhaustive planner."""
import unittest

import imprecise


class PlannersTest(unittest.TestCase):
    JOBS = [
        {"deadline": 100, "lo": 1, "hi": 3, "cost": [0, 20, 40, 60], "reward": [0, 0.5, 0.7, 0.8]},
        {"deadline": 120, "lo": 1, "hi": 3, "cost": [0, 20, 40, 60], "reward": [0, 0.6, 0.8, 0.9]},
        {"deadline": 150, "done": 1, "lo": 1, "hi": 3, "cost": [0, 0, 25, 50], "reward": [0, 0.4, 0.7, 0.75]},
    ]

    def test_yao_dp_matches_the_exhaustive_planner_and_density_is_feasible(self):
        best = imprecise.plan(self.JOBS, planner="exhaustive")
        dp = imprecise.plan(self.JOBS, planner="yao-dp", eps=0.001)
        self.assertTrue(best["feasible"])
        self.assertAlmostEqual(dp["total_reward"], best["total_reward"], delta=0.001 * 3)
        density = imprecise.plan(self.JOBS, planner="density")
        self.assertTrue(density["feasible"])
        self.assertLessEqual(density["total_reward"], best["total_reward"] + 1e-12)
        two = imprecise.plan(self.JOBS, planner="exhaustive", lane_free=[0, 0])
        self.assertGreaterEqual(two["total_reward"], best["total_reward"])

    def test_bad_jobs_are_value_errors(self):
        with self.assertRaisesRegex(ValueError, r"jobs\[0\]"):
            imprecise.plan([{"deadline": 1, "lo": 2, "hi": 1, "cost": [0, 1, 2], "reward": [0, 1, 2]}])
        with self.assertRaisesRegex(ValueError, "planner"):
            imprecise.plan(self.JOBS, planner="greedy")


if __name__ == "__main__":
    unittest.main()
