"""ControlEnv: deterministic for a seed, documented observation, actions reach the controls, bad actions refused."""
import unittest

import numpy as np

import imprecise
from support import EDGE


def make_env(**kw):
    settings = dict(policy="density", load=2.0, lanes=2, interval_ms=100.0, episode_intervals=12)
    settings.update(kw)
    return imprecise.ControlEnv(EDGE, **settings)


def rollout(env, seed, actions):
    obs = [env.reset(seed)]
    rewards = []
    for a in actions:
        o, r, done, _ = env.step(a)
        obs.append(o)
        rewards.append(r)
        if done:
            break
    return np.stack(obs), rewards


class ControlEnvTest(unittest.TestCase):
    def test_observation_has_the_documented_length_and_type(self):
        env = make_env()
        models = len(env.models)
        self.assertEqual(env.observation_size, imprecise.FEATURES_PER_MODEL * models + 1)
        obs = env.reset(1)
        self.assertEqual(obs.dtype, np.float32)
        self.assertEqual(obs.shape, (env.observation_size,))
        self.assertTrue(np.all(np.isfinite(obs)))
        self.assertEqual(len(env.branch_sizes), 3 * models)
        self.assertEqual(env.action_logits, sum(env.branch_sizes))
        self.assertEqual(env.branch_names[:3], [f"{env.models[0]}.batch", f"{env.models[0]}.wait",
                                                f"{env.models[0]}.lanes"])

    def test_identical_seeds_give_identical_episodes(self):
        rng = np.random.default_rng(7)
        env = make_env(load_schedule="bursts:0.5:3:0.4:0.5")
        actions = [[int(rng.integers(0, n)) for n in env.branch_sizes] for _ in range(12)]
        obs_a, rew_a = rollout(env, 11, actions)
        obs_b, rew_b = rollout(make_env(load_schedule="bursts:0.5:3:0.4:0.5"), 11, actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        self.assertEqual(rew_a, rew_b)
        obs_c, _ = rollout(env, 12, actions)
        self.assertFalse(np.array_equal(obs_a, obs_c))

    def test_an_episode_ends_after_its_intervals(self):
        env = make_env(episode_intervals=5)
        env.reset(3)
        steps, done = 0, False
        while not done:
            _, reward, done, info = env.step([0] * len(env.branch_sizes))
            self.assertIsInstance(reward, float)
            steps += 1
        self.assertEqual(steps, 5)
        self.assertAlmostEqual(info["time_s"], 0.6)
        with self.assertRaises(ValueError):
            env.step([0] * len(env.branch_sizes))

    def test_an_action_changes_the_controls_the_next_observation_reports(self):
        env = make_env()
        models = len(env.models)
        per = imprecise.FEATURES_PER_MODEL
        obs = env.reset(5)
        self.assertAlmostEqual(float(obs[6]), 1.0)  # starts at the largest batch
        small = env.encode_action([{"max_batch": 1, "batch_wait_ms": 2.0, "lanes": 1}] * models)
        obs, _, _, info = env.step(small)
        for m in range(models):
            self.assertAlmostEqual(float(obs[per * m + 6]), 1 / 8)   # max batch / config max batch
            self.assertAlmostEqual(float(obs[per * m + 7]), 0.2)     # 2 ms of a 10 ms wait
            self.assertAlmostEqual(float(obs[per * m + 8]), 0.5)     # 1 of 2 lanes
            self.assertEqual(info["controls"][m], {"max_batch": 1, "batch_wait_ms": 2.0, "lanes": 1})
            if info["windows"][m]["mean_batch"] > 0:
                self.assertAlmostEqual(info["windows"][m]["mean_batch"], 1.0)
        self.assertEqual(env.controls, info["controls"])

    def test_a_bad_action_is_a_value_error_naming_the_branch(self):
        env = make_env()
        env.reset(1)
        n = len(env.branch_sizes)
        with self.assertRaisesRegex(ValueError, "expected 9 choices"):
            env.step([0] * (n - 1))
        bad = [0] * n
        bad[5] = env.branch_sizes[5]
        with self.assertRaisesRegex(ValueError, r"model 'lidar', branch lanes"):
            env.step(bad)
        bad[5] = -1
        with self.assertRaisesRegex(ValueError, "branch lanes"):
            env.step(bad)
        with self.assertRaises(ValueError):
            env.step("no")
        env.step([0] * n)  # still usable


if __name__ == "__main__":
    unittest.main()
