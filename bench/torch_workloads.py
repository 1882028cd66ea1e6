"""The bench's workloads (bench/workloads.ts) written in PyTorch, for side-by-side timings.

Same layer sizes, batch shapes, losses and optimiser settings as the TypeScript side; random data
and weights (speed does not depend on them). Prints one JSON object: seconds per step (median of
the timed repeats) for each workload at the requested thread count.

    python3 bench/torch_workloads.py --threads 1 [--workloads vae,mlp] [--repeats 5]
    python3 bench/torch_workloads.py --threads 1 --matmul 64,256,512

Needs PyTorch (Debian: apt-get install python3-torch). It is a bench tool, never a test dependency.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Vae(nn.Module):
    """World Models V (Ha & Schmidhuber 2018, appendix A.1), z = 32."""

    def __init__(self, latent=32):
        super().__init__()
        channels = [3, 32, 64, 128, 256]
        self.encoder = nn.ModuleList(
            nn.Conv2d(channels[i], channels[i + 1], 4, stride=2) for i in range(4))
        self.mean = nn.Linear(1024, latent)
        self.log_var = nn.Linear(1024, latent)
        self.decoder_input = nn.Linear(latent, 1024)
        decoder = [(1024, 128, 5), (128, 64, 5), (64, 32, 6), (32, 3, 6)]
        self.decoder = nn.ModuleList(
            nn.ConvTranspose2d(i, o, k, stride=2) for i, o, k in decoder)
        self.latent = latent

    def loss(self, x):
        h = x
        for conv in self.encoder:
            h = F.relu(conv(h))
        h = h.flatten(1)
        mean, log_var = self.mean(h), self.log_var(h)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        y = self.decoder_input(z).view(-1, 1024, 1, 1)
        for i, deconv in enumerate(self.decoder):
            y = deconv(y)
            y = torch.sigmoid(y) if i == 3 else F.relu(y)
        reconstruction = ((x - y) ** 2).sum(dim=(1, 2, 3)).mean()
        kl = -0.5 * (1 + log_var - mean ** 2 - log_var.exp()).sum(1)
        return reconstruction + torch.clamp(kl, min=0.5 * self.latent).mean()


def vae_step():
    model = Vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    frames = torch.rand(100, 3, 64, 64)

    def step():
        optimizer.zero_grad()
        model.loss(frames).backward()
        optimizer.step()
    return step


def mlp_step():
    sizes = [64, 512, 512, 64]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(256, 64), torch.randn(256, 64)

    def step():
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
    return step


def mdn_rnn_step():
    """World Models M: LSTM 256 over (z, a), 5 Gaussians per latent dimension."""
    hidden, mixtures, latent, actions, batch, steps = 256, 5, 32, 3, 100, 50
    lstm = nn.LSTM(latent + actions, hidden, batch_first=True)
    head = nn.Linear(hidden, latent * mixtures * 3)
    params = list(lstm.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    inputs = torch.randn(batch, steps, latent + actions)
    targets = torch.randn(batch, steps, latent)

    def step():
        optimizer.zero_grad()
        out, _ = lstm(inputs)
        raw = head(out.reshape(-1, hidden)).view(-1, latent, 3 * mixtures)
        logits, mu, log_sigma = raw.split(mixtures, dim=2)
        log_pi = logits - torch.logsumexp(logits, 2, keepdim=True)
        y = targets.reshape(-1, latent, 1)
        log_normal = -0.5 * ((y - mu) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * math.log(
            2 * math.pi)
        loss = -torch.logsumexp(log_pi + log_normal, 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
    return step


class Rssm(nn.Module):
    """PlaNet's RSSM on state vectors (Hafner et al. 2019, Section 3), no overshooting."""

    def __init__(self, deterministic, stochastic, hidden, embed, observation=5, action=1):
        super().__init__()
        self.stochastic = stochastic
        self.encoder = nn.Sequential(nn.Linear(observation, hidden), nn.ELU(),
                                     nn.Linear(hidden, embed), nn.ELU())
        self.transition_input = nn.Sequential(nn.Linear(stochastic + action, hidden), nn.ELU())
        self.gru = nn.GRUCell(hidden, deterministic)
        self.prior = nn.Sequential(nn.Linear(deterministic, hidden), nn.ELU(),
                                   nn.Linear(hidden, 2 * stochastic))
        self.posterior = nn.Sequential(nn.Linear(deterministic + embed, hidden), nn.ELU(),
                                       nn.Linear(hidden, 2 * stochastic))
        feature = deterministic + stochastic
        self.decoder = nn.Sequential(nn.Linear(feature, hidden), nn.ELU(),
                                     nn.Linear(hidden, hidden), nn.ELU(),
                                     nn.Linear(hidden, observation))
        self.reward = nn.Sequential(nn.Linear(feature, hidden), nn.ELU(),
                                    nn.Linear(hidden, hidden), nn.ELU(),
                                    nn.Linear(hidden, 1))
        self.deterministic = deterministic

    def gaussian(self, raw):
        mean, std = raw.chunk(2, -1)
        return mean, F.softplus(std) + 0.1

    def transition(self, h, s, a):
        h = self.gru(self.transition_input(torch.cat([s, a], -1)), h)
        return h, self.gaussian(self.prior(h))

    def loss(self, observations, actions, rewards, noise):
        batch, length, _ = observations.shape
        embeddings = self.encoder(observations)
        h = observations.new_zeros(batch, self.deterministic)
        s = observations.new_zeros(batch, self.stochastic)
        features, kls = [], []
        for t in range(length):
            h, (prior_mean, prior_std) = self.transition(h, s, actions[:, t])
            post_mean, post_std = self.gaussian(
                self.posterior(torch.cat([h, embeddings[:, t]], -1)))
            s = post_mean + post_std * noise[:, t]
            features.append(torch.cat([h, s], -1))
            ratio = (post_std / prior_std) ** 2
            kls.append((0.5 * (ratio + ((post_mean - prior_mean) / prior_std) ** 2 - 1
                               - torch.log(ratio))).sum(-1))
        features = torch.stack(features, 1)
        reconstruction = (0.5 * ((self.decoder(features) - observations) ** 2).sum(-1)).mean()
        reward = (0.5 * (self.reward(features).squeeze(-1) - rewards) ** 2).mean()
        kl = torch.clamp(torch.stack(kls), min=3.0).mean()
        return reconstruction + reward + kl

    @torch.no_grad()
    def imagine(self, h, s, sequences):
        total = 0
        for t in range(sequences.shape[1]):
            h, (mean, _) = self.transition(h, s, sequences[:, t])
            s = mean
            total = total + self.reward(torch.cat([h, s], -1)).squeeze(-1)
        return total


RSSM_SIZES = {"laptop": (64, 16, 64, 64), "paper": (200, 30, 200, 1024)}


def rssm_step(size):
    model = Rssm(*RSSM_SIZES[size])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-4)
    batch, steps = 50, 50
    observations = torch.randn(batch, steps, 5)
    actions = torch.rand(batch, steps, 1) * 2 - 1
    rewards = torch.rand(batch, steps)
    noise = torch.randn(batch, steps, model.stochastic)

    def step():
        optimizer.zero_grad()
        model.loss(observations, actions, rewards, noise).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1000.0)
        optimizer.step()
    return step


def cem_step():
    """One CEM plan at the paper's settings: H 12, J 1000, K 100, I 10."""
    model = Rssm(*RSSM_SIZES["paper"])
    horizon, candidates, elites, iterations = 12, 1000, 100, 10
    h0 = torch.zeros(1, model.deterministic)
    s0 = torch.zeros(1, model.stochastic)

    def step():
        mean, std = torch.zeros(horizon, 1), torch.ones(horizon, 1)
        for _ in range(iterations):
            sequences = (mean + std * torch.randn(candidates, horizon, 1)).clamp(-1, 1)
            returns = model.imagine(h0.expand(candidates, -1), s0.expand(candidates, -1),
                                    sequences)
            top = sequences[returns.topk(elites).indices]
            mean, std = top.mean(0), top.std(0, unbiased=False)
    return step


def matmul_gflops(size, seconds=1.0):
    """Float32 GFLOP/s of torch.mm on two random size x size matrices."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    reps, started = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - started < seconds:
        torch.mm(a, b)
        reps += 1
    return 2 * size ** 3 * reps / (time.perf_counter() - started) / 1e9


WORKLOADS = {
    "vae": vae_step,
    "mlp": mlp_step,
    "mdn-rnn": mdn_rnn_step,
    "rssm-laptop": lambda: rssm_step("laptop"),
    "rssm-paper": lambda: rssm_step("paper"),
    "cem-paper": cem_step,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--matmul", default="", help="square sizes: GFLOP/s of torch.mm instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.matmul:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                          "gflops": {size: matmul_gflops(int(size))
                                     for size in args.matmul.split(",")}}))
        return
    results = {}
    for name in args.workloads.split(","):
        step = WORKLOADS[name]()
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        results[name] = statistics.median(times)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "secondsPerStep": results}))


if __name__ == "__main__":
    main()
