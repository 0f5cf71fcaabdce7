#!/usr/bin/env python3
"""Trains the `sac` controller: a discrete, branching soft actor-critic agent against the simulator.

The environment is `imprecise.ControlEnv` (the pybind11 module): every step is one control interval of
the simulated edge scenario; the observation and the action decoding are the C++ functions of
include/imprecise/control/sac_features.hpp, and the reward is the interval's SloUtility. Each model has
three branches (max batch, batching wait, lanes); the actor outputs every branch's logits, concatenated
as sac_features.hpp lays them out, and serving takes each branch's argmax.

SAC for discrete branching actions (Christodoulou 2019, "Soft Actor-Critic for Discrete Action Settings",
with one categorical per branch as in branching dueling Q-networks, Tavakoli et al. 2018):
  - two critics and their Polyak-averaged targets give Q_b(s, a_b) per branch b;
  - target y = r + gamma * mean_b sum_a pi_b(a|s') (min(Q1', Q2')_b(s', a) - alpha_b log pi_b(a|s'));
  - each critic minimises (Q_b(s, a_b) - y)^2 over branches;
  - the actor minimises sum_b sum_a pi_b(a|s) (alpha_b log pi_b(a|s) - min(Q1, Q2)_b(s, a));
  - each branch's temperature alpha_b is tuned to a target entropy of `--entropy-fraction` x log|A_b|.

Seeded end to end (numpy, torch, the simulator). Writes the actor as ONNX (run at serving time by our
own engine, no Python), the training curve (CSV and PNG) and the settings used.

  /usr/bin/python3 scripts/train_sac.py --module-dir build/default/python --out-dir models/controllers
"""
import argparse
import csv
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--module-dir", default="build/default/python", help="where the built `imprecise` module is")
    p.add_argument("--scenario", default="scenarios/edge_server.json")
    p.add_argument("--policy", default="yao-dp")
    p.add_argument("--lanes", type=int, default=2)
    p.add_argument("--interval-ms", type=float, default=100.0)
    p.add_argument("--episode-intervals", type=int, default=50)
    p.add_argument("--loads", default="0.5,1,2,3,4,5", help="constant loads an episode may draw")
    p.add_argument("--schedules", default="ramp:0.5:4,ramp:4:0.5,bursts:1:4:2:0.5",
                   help="load schedules an episode may draw (as `imprecise simulate --load-schedule`)")
    p.add_argument("--steps", type=int, default=30000)
    p.add_argument("--warmup-steps", type=int, default=1000, help="uniformly random actions first")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--gamma", type=float, default=0.9)
    p.add_argument("--tau", type=float, default=0.01)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--entropy-fraction", type=float, default=0.2)
    p.add_argument("--eval-every", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out-dir", default="models/controllers")
    return p.parse_args()


def mlp(inputs, outputs, hidden):
    """Two hidden ReLU layers. The actor maps an observation to every branch's logits, concatenated (what the
    C++ sac controller reads); a critic maps it to Q_b(s, a) for every branch b and choice a, in the same layout."""
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, outputs))


class Branches:
    """Slices of the concatenated logits, one per branch, in sac_features.hpp's order."""

    def __init__(self, sizes):
        self.sizes = list(sizes)
        self.starts = np.cumsum([0] + self.sizes[:-1]).tolist()

    def __iter__(self):
        return iter(zip(self.starts, self.sizes))

    def __len__(self):
        return len(self.sizes)


def branch_softmax(logits, branches):
    """Per branch: probabilities and log-probabilities, lists of [N, size] tensors."""
    probs, logs = [], []
    for start, size in branches:
        part = logits[:, start:start + size]
        logs.append(F.log_softmax(part, dim=1))
        probs.append(logs[-1].exp())
    return probs, logs


def sample_action(actor, obs, branches, greedy):
    with torch.no_grad():
        logits = actor(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))
    choice = []
    for start, size in branches:
        part = logits[0, start:start + size]
        if greedy:
            choice.append(int(torch.argmax(part).item()))  # first on ties, as the C++ argmax
        else:
            choice.append(int(torch.distributions.Categorical(logits=part).sample().item()))
    return choice


class Replay:
    def __init__(self, capacity, obs, branches, rng):
        self.obs = np.zeros((capacity, obs), np.float32)
        self.next = np.zeros((capacity, obs), np.float32)
        self.act = np.zeros((capacity, branches), np.int64)
        self.rew = np.zeros(capacity, np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.size, self.pos, self.capacity, self.rng = 0, 0, capacity, rng

    def add(self, o, a, r, o2, d):
        i = self.pos
        self.obs[i], self.act[i], self.rew[i], self.next[i], self.done[i] = o, a, r, o2, d
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, n):
        idx = self.rng.integers(0, self.size, n)
        t = lambda x: torch.as_tensor(x[idx])
        return t(self.obs), t(self.act), t(self.rew), t(self.next), t(self.done)


def episode_settings(args, rng):
    """One episode's load: a constant load or a schedule, drawn with the seed's generator."""
    loads = [float(x) for x in args.loads.split(",") if x]
    schedules = [s for s in args.schedules.split(",") if s]
    pick = rng.integers(0, len(loads) + len(schedules))
    if pick < len(loads):
        return {"load": loads[pick]}
    return {"load_schedule": schedules[pick - len(loads)]}


def run_eval(make_env, actor, branches, settings_list, seed):
    """Greedy actor over fixed settings: mean reward per interval for each."""
    out = {}
    for settings in settings_list:
        env = make_env(settings)
        obs = env.reset(seed)
        total, steps, done = 0.0, 0, False
        while not done:
            obs, reward, done, _ = env.step(sample_action(actor, obs, branches, greedy=True))
            total += reward
            steps += 1
        out[settings.get("load_schedule", settings.get("load"))] = total / max(1, steps)
    return out


def main():
    args = parse_args()
    sys.path.insert(0, os.path.abspath(args.module_dir))
    import imprecise  # noqa: E402  (the pybind11 module, built by CMake)

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)

    def make_env(settings):
        return imprecise.ControlEnv(scenario=args.scenario, policy=args.policy, lanes=args.lanes,
                                    interval_ms=args.interval_ms, episode_intervals=args.episode_intervals,
                                    **settings)

    probe = make_env({"load": 1.0})
    obs_size = probe.observation_size
    branches = Branches(probe.branch_sizes)
    logits = sum(branches.sizes)
    actor = mlp(obs_size, logits, args.hidden)
    critics = [mlp(obs_size, logits, args.hidden) for _ in range(2)]
    targets = [mlp(obs_size, logits, args.hidden) for _ in range(2)]
    for c, t in zip(critics, targets):
        t.load_state_dict(c.state_dict())
    log_alpha = torch.zeros(len(branches), requires_grad=True)
    target_entropy = torch.tensor([args.entropy_fraction * math.log(s) for s in branches.sizes])
    actor_opt = torch.optim.Adam(actor.parameters(), lr=args.lr)
    critic_opt = torch.optim.Adam([p for c in critics for p in c.parameters()], lr=args.lr)
    alpha_opt = torch.optim.Adam([log_alpha], lr=args.lr)
    replay = Replay(max(args.steps, 1), obs_size, len(branches), rng)

    def q_of(net, o):
        return net(o)

    def update():
        o, a, r, o2, d = replay.sample(args.batch_size)
        alpha = log_alpha.exp().detach()
        with torch.no_grad():
            probs2, logs2 = branch_softmax(actor(o2), branches)
            q_next = torch.min(q_of(targets[0], o2), q_of(targets[1], o2))
            v_next = 0.0
            for b, (start, size) in enumerate(branches):
                v_next = v_next + (probs2[b] * (q_next[:, start:start + size] - alpha[b] * logs2[b])).sum(1)
            y = r + args.gamma * (1.0 - d) * v_next / len(branches)
        critic_loss = 0.0
        for c in critics:
            q = q_of(c, o)
            for b, (start, size) in enumerate(branches):
                taken = q[:, start:start + size].gather(1, a[:, b:b + 1]).squeeze(1)
                critic_loss = critic_loss + F.mse_loss(taken, y)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()

        probs, logs = branch_softmax(actor(o), branches)
        with torch.no_grad():
            q_min = torch.min(q_of(critics[0], o), q_of(critics[1], o))
        actor_loss, entropies = 0.0, []
        for b, (start, size) in enumerate(branches):
            actor_loss = actor_loss + (probs[b] * (alpha[b] * logs[b] - q_min[:, start:start + size])).sum(1).mean()
            entropies.append(-(probs[b] * logs[b]).sum(1).mean().detach())
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()

        alpha_loss = (log_alpha * (torch.stack(entropies) - target_entropy)).sum()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()
        with torch.no_grad():
            for c, t in zip(critics, targets):
                for p, tp in zip(c.parameters(), t.parameters()):
                    tp.mul_(1 - args.tau).add_(args.tau * p)
        return float(critic_loss), float(actor_loss)

    eval_settings = [{"load": 2.0}, {"load": 4.0}, {"load_schedule": "ramp:0.5:4"}, {"load_schedule": "bursts:1:4:2:0.5"}]
    os.makedirs(args.out_dir, exist_ok=True)
    curve_path = os.path.join(args.out_dir, "sac_training_curve.csv")
    curve = open(curve_path, "w", newline="")
    writer = csv.writer(curve)
    writer.writerow(["step", "episode", "episode_mean_reward", "critic_loss", "actor_loss"] +
                    [f"eval_{s.get('load_schedule', s.get('load'))}" for s in eval_settings])
    started = time.time()
    episode, step = 0, 0
    env = make_env(episode_settings(args, rng))
    obs = env.reset(int(rng.integers(1, 2**31)))
    ep_reward, ep_steps, losses = 0.0, 0, (float("nan"), float("nan"))
    while step < args.steps:
        if step < args.warmup_steps:
            action = [int(rng.integers(0, s)) for s in branches.sizes]
        else:
            action = sample_action(actor, obs, branches, greedy=False)
        obs2, reward, done, _ = env.step(action)
        replay.add(obs, action, reward, obs2, float(done))
        obs = obs2
        ep_reward += reward
        ep_steps += 1
        step += 1
        if step >= args.warmup_steps and replay.size >= args.batch_size:
            losses = update()
        evals = {}
        if step % args.eval_every == 0:
            evals = run_eval(make_env, actor, branches, eval_settings, seed=7)
            print(f"step {step}: eval {evals} ({time.time() - started:.0f} s)", flush=True)
        if done or evals:
            writer.writerow([step, episode, ep_reward / max(1, ep_steps), losses[0], losses[1]] +
                            [evals.get(s.get("load_schedule", s.get("load")), "") for s in eval_settings])
        if done:
            episode += 1
            env = make_env(episode_settings(args, rng))
            obs = env.reset(int(rng.integers(1, 2**31)))
            ep_reward, ep_steps = 0.0, 0
    curve.close()

    actor_path = os.path.join(args.out_dir, "sac_actor.onnx")
    actor.eval()
    torch.onnx.export(actor, torch.zeros(1, obs_size), actor_path, input_names=["observation"],
                      output_names=["logits"], opset_version=13)
    name_the_models(actor_path, list(env.models))
    with open(os.path.join(args.out_dir, "sac_actor.json"), "w") as f:
        json.dump({"scenario": args.scenario, "policy": args.policy, "lanes": args.lanes,
                   "interval_ms": args.interval_ms, "observation_size": obs_size, "branch_sizes": branches.sizes,
                   "steps": args.steps, "seed": args.seed, "train_seconds": round(time.time() - started, 1),
                   "settings": vars(args)}, f, indent=2)
    plot_curve(curve_path, os.path.join(args.out_dir, "sac_training_curve.png"))
    print(f"wrote {actor_path} after {step} steps in {time.time() - started:.0f} s")


def name_the_models(actor_path, names):
    """Writes the models the actor was trained for, in its order, into its metadata (imprecise.sac.models,
    include/imprecise/control/sac_features.hpp): serving matches the host's models to them by name."""
    import onnx
    model = onnx.load(actor_path)
    onnx.helper.set_model_props(model, {"imprecise.sac.models": ",".join(names)})
    onnx.checker.check_model(model)
    onnx.save(model, actor_path)


def plot_curve(csv_path, png_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = list(csv.DictReader(open(csv_path)))
    fig, ax = plt.subplots(figsize=(7, 4))
    ep = [(int(r["step"]), float(r["episode_mean_reward"])) for r in rows if r["episode_mean_reward"]]
    if ep:
        ax.plot([s for s, _ in ep], [v for _, v in ep], ".", alpha=0.3, label="training episodes (mean utility)")
    for key in [k for k in rows[0].keys() if k.startswith("eval_")] if rows else []:
        pts = [(int(r["step"]), float(r[key])) for r in rows if r[key]]
        if pts:
            ax.plot([s for s, _ in pts], [v for _, v in pts], "-o", label=f"greedy, {key[5:]}")
    ax.set_xlabel("environment steps (control intervals)")
    ax.set_ylabel("SloUtility per interval")
    ax.set_title("sac controller training (simulator)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main()
