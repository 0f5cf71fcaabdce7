"""simulate(): the CLI's numbers for the same settings; scenarios, profiles and calibration as Python values."""
import json
import os
import subprocess
import tempfile
import unittest

import imprecise
from support import CLI, EDGE, SOURCE_DIR

# Wall-clock figures differ between identical runs.
TIMING = {"decision_p50_us", "decision_p99_us", "decision_cpu_p50_us", "decision_cpu_p99_us", "events_per_second"}


def strip(metrics):
    out = {k: v for k, v in metrics.items() if k not in TIMING and k != "intervals"}
    out["slo"] = {k: v for k, v in metrics["slo"].items() if k not in TIMING}
    return out


class SimulateTest(unittest.TestCase):
    @unittest.skipUnless(CLI and os.path.exists(CLI), "IMPRECISE_CLI is not set")
    def test_simulate_equals_the_cli(self):
        for controller in (None, "static", "aimd"):
            args = ["--policy", "density", "--load", "3", "--seed", "4", "--duration", "3", "--lanes", "2",
                    "--load-schedule", "ramp:0.5:2", "--max-batch-wait-ms", "5"]
            if controller:
                args += ["--controller", controller, "--static-batch", "4"]
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "m.json")
                subprocess.run([CLI, "simulate", "--scenario", EDGE, "--json", out] + args, check=True,
                               stdout=subprocess.DEVNULL)
                with open(out) as f:
                    cli = json.load(f)
            py = imprecise.simulate(EDGE, "density", load=3, seed=4, duration_s=3, lanes=2, load_schedule="ramp:0.5:2",
                                    max_batch_wait_ms=5, controller=controller, static_batch=4)
            self.assertEqual(strip(py), strip(cli), controller)

    def test_identical_seeds_identical_runs_and_a_controller_reports_its_intervals(self):
        sc = imprecise.load_scenario(EDGE)
        a = imprecise.simulate(sc, "edf-full", load=2, seed=2, duration_s=2, lanes=2, controller="static")
        b = imprecise.simulate(sc, "edf-full", load=2, seed=2, duration_s=2, lanes=2, controller="static")
        self.assertEqual(strip(a), strip(b))
        self.assertEqual(a["slo"]["controller"], "static")
        self.assertGreaterEqual(a["slo"]["intervals"], 20)
        self.assertEqual(len(a["intervals"]), a["slo"]["intervals"])
        # expected correct <= completed = answered - violations: U_acc <= (1 - v) - v
        v = a["slo"]["slo_violations"]
        self.assertLessEqual(a["slo"]["utility_accuracy"], 1.0 - 2.0 * v + 1e-9)
        with self.assertRaisesRegex(ValueError, "lanes"):
            imprecise.simulate(sc, "edf-full", lanes=0)
        with self.assertRaisesRegex(ValueError, "unknown controller"):
            imprecise.simulate(sc, "edf-full", duration_s=1, controller="nope")

    def test_scenario_profile_and_calibration(self):
        sc = imprecise.load_scenario(EDGE)
        self.assertEqual([m.name for m in sc.models], ["vision", "lidar", "voice"])
        u = sc.models[0].utility
        self.assertAlmostEqual(u.expected(2, 0, 0.0), u.prior(2))
        self.assertLessEqual(u.expected(1, 1, 0.99), 1.0)
        profile = imprecise.load_profile(os.path.join(SOURCE_DIR, "models", "vision.profile.json"))
        self.assertEqual(profile["batch_sizes"][0], 1)
        self.assertIn("p50_ms", profile["stages"][0][0])
        cal = imprecise.load_calibration(os.path.join(SOURCE_DIR, "models", "vision.calibration.json"))
        self.assertEqual(len(cal["temperatures"]), cal["utility"].exits)
        with self.assertRaises(ValueError):
            imprecise.load_scenario(os.path.join(SOURCE_DIR, "no-such-scenario.json"))


if __name__ == "__main__":
    unittest.main()
