"""`train run`: finite loss, overfitting one sample, exact resume, the objective's parts, RUN/final loads."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from main import main
from training_helpers import one_sample_cache


@pytest.fixture(scope="module")
def one_sample(prepared, tmp_path_factory):
    cache, _ = prepared
    return one_sample_cache(cache, tmp_path_factory.mktemp("one") / "cache", row=1)


def _cfg(model, cache, out, **kw):
    from engine.training.objective import ObjectiveSettings
    from engine.training.trainer import TrainConfig

    base = dict(init=str(model), cache=str(cache), out=str(out), steps=3, batch_size=2, lr=1e-4,
                trainable=("controlnets",), checkpoint_every=1000, device="cpu")
    base.update(kw)
    return TrainConfig(**base) if "objective" in base else TrainConfig(objective=ObjectiveSettings(), **base)


def test_run_gives_finite_losses_metrics_and_a_loadable_final_folder(tiny_model, prepared, tmp_path, capsys):
    cache, _ = prepared
    out = tmp_path / "run"
    rc = main(["train", "run", "--init", str(tiny_model), "--cache", str(cache), "-o", str(out), "--steps", "3",
               "--batch-size", "2", "--lr", "1e-4", "--trainable", "controlnets,unet-lora", "--device", "cpu",
               "--checkpoint-every", "2", "--ema", "-q"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3]
    for r in lines:
        assert np.isfinite(r["loss"]) and r["loss"] > 0 and r["samples_per_s"] > 0 and r["lr"] == pytest.approx(1e-4)
    assert (out / "checkpoints" / "step-0000002" / "trainer_state.json").is_file()
    assert list((out / "tensorboard").glob("events.*"))   # TensorBoard event files (tensorboardX here)
    # RUN/final is a plain pipeline folder (LoRA merged) that `generate --backend diffusion` runs
    from engine.worldmodel.diffusion.backend import load_pipeline

    final = load_pipeline(out / "final")
    assert final.config.objects_in_controls is False  # trained on the blanked stack: sampled with it
    assert not getattr(final.unet, "peft_config", None)
    gen_out = tmp_path / "gen"
    from engine.paths import DEMO_SCENARIO

    rc = main(["generate", str(DEMO_SCENARIO), "-o", str(gen_out), "--backend", "diffusion", "--model",
               str(out / "final"), "--steps", "2", "--size", "64x32", "--frames", "1", "--device", "cpu", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    meta = json.loads((gen_out / "generation.json").read_text())
    assert str(out / "final") in json.dumps(meta)
    assert len(list((gen_out / "frames").rglob("*.jpg"))) == 6


def test_overfitting_one_sample_halves_the_loss(tiny_model, one_sample, tmp_path):
    """Same fixed noise/timestep draws before and after: the fit to one sample must at least halve the loss."""
    from engine.training.evaluate import fixed_loss
    from engine.training.objective import ObjectiveSettings
    from engine.training.trainer import train

    obj = ObjectiveSettings(p_uncond=0.0, prev_drop=0.0, prev_noise=0.0)
    cfg = _cfg(tiny_model, one_sample, tmp_path / "run", steps=40, batch_size=4, lr=1e-3,
               trainable=("unet", "controlnets"), objective=obj)
    before = fixed_loss(str(tiny_model), str(one_sample), draws=12)
    result = train(cfg, progress=False)
    after = fixed_loss(str(result.final), str(one_sample), draws=12)
    assert np.isfinite(before) and np.isfinite(after)
    assert after <= 0.5 * before, (before, after)


def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_model, prepared, tmp_path):
    from engine.training.trainer import train

    cache, _ = prepared
    kw = dict(steps=4, checkpoint_every=2, trainable=("controlnets", "unet-lora"), ema=True, lr=1e-3)
    full = train(_cfg(tiny_model, cache, tmp_path / "a", **kw), progress=False)
    first = train(_cfg(tiny_model, cache, tmp_path / "b", **kw), progress=False, stop_after=2)
    assert first.final is None and first.step == 2
    assert first.losses == pytest.approx(full.losses[:2], abs=1e-6)
    second = train(_cfg(tiny_model, cache, tmp_path / "b", resume=True, **kw), progress=False)
    assert any("resumed" in n for n in second.notes)
    assert len(second.losses) == 2
    assert second.losses[0] == pytest.approx(full.losses[2], abs=1e-6)
    assert second.losses[1] == pytest.approx(full.losses[3], abs=1e-6)
    steps = [json.loads(x)["step"] for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    # and the final weights agree
    from safetensors.torch import load_file

    for sub in ("controlnet", "unet"):
        fa = sorted((tmp_path / "a" / "final" / sub).glob("*.safetensors"))[0]
        fb = sorted((tmp_path / "b" / "final" / sub).glob("*.safetensors"))[0]
        ta, tb = load_file(fa), load_file(fb)
        assert ta.keys() == tb.keys()
        for k in ta:
            assert torch.allclose(ta[k], tb[k], atol=1e-6), (sub, k)


def test_a_run_with_checkpoints_is_not_overwritten_without_resume(tiny_model, prepared, tmp_path, capsys):
    cache, _ = prepared
    args = ["train", "run", "--init", str(tiny_model), "--cache", str(cache), "-o", str(tmp_path / "r"),
            "--steps", "1", "--checkpoint-every", "1", "--device", "cpu", "-q"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err


def test_lora_is_merged_into_the_saved_unet(tiny_model):
    """The merged plain UNet predicts what the UNet with its (non-zero) LoRA adapters predicts."""
    from engine.training.model import add_lora, merged_unet
    from engine.worldmodel.diffusion.backend import load_pipeline

    pipe = load_pipeline(tiny_model)
    unet = pipe.unet
    torch.manual_seed(0)
    add_lora(unet, 4)
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    merged = merged_unet(unet)
    assert not any("lora" in n for n, _ in merged.named_parameters())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, unet.config.in_channels, 8, 16, generator=g)
    text = torch.randn(1, 4, unet.config.cross_attention_dim, generator=g)
    env = torch.zeros(1, 7)
    env[0, 0] = env[0, 3] = 1
    with torch.no_grad():
        a = unet(x, 10, encoder_hidden_states=text, class_labels=env).sample
        b = merged(x, 10, encoder_hidden_states=text, class_labels=env).sample
        unet.disable_adapters()
        c = unet(x, 10, encoder_hidden_states=text, class_labels=env).sample
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, c, atol=1e-3)     # the adapters did change the output


class _ZeroNet(torch.nn.Module):
    """Predicts zeros and records what it was given."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, sample, t, text, context, dense, layout, env):
        self.calls.append(dict(text=text, context=context, dense=dense, layout=layout, env=env, t=t))
        return torch.zeros_like(sample)


def _inputs(b=2, mask_value=0.0):
    from engine.training.objective import ModelInputs

    g = torch.Generator().manual_seed(5)
    return ModelInputs(latent=torch.randn(b, 4, 4, 48, generator=g), prev_latent=torch.randn(b, 4, 4, 48, generator=g),
                       has_prev=torch.ones(b, dtype=torch.bool), dense=torch.rand(b, 9, 32, 384, generator=g),
                       layout=torch.rand(b, 16, 32, 384, generator=g), env=torch.ones(b, 7),
                       mask=torch.full((b, 1, 32, 384), mask_value), cond_text=torch.ones(b, 3, 16),
                       uncond_text=torch.zeros(1, 3, 16))


def _sched():
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)


def test_foreground_weight_doubles_the_loss_inside_a_full_mask():
    """loss = mean((1 + w M) err^2): with M = 1 everywhere and w = 1 it is exactly twice the plain loss."""
    from engine.training.objective import ObjectiveSettings, diffusion_loss

    plain, _ = diffusion_loss(_ZeroNet(), _sched(), _inputs(mask_value=1.0), ObjectiveSettings(fg_weight=0.0),
                              torch.Generator().manual_seed(9))
    weighted, _ = diffusion_loss(_ZeroNet(), _sched(), _inputs(mask_value=1.0), ObjectiveSettings(fg_weight=1.0),
                                 torch.Generator().manual_seed(9))
    none, _ = diffusion_loss(_ZeroNet(), _sched(), _inputs(mask_value=0.0), ObjectiveSettings(fg_weight=1.0),
                             torch.Generator().manual_seed(9))
    assert float(weighted) == pytest.approx(2.0 * float(plain), rel=1e-6)
    assert float(none) == pytest.approx(float(plain), rel=1e-6)
    # with a zero prediction and epsilon targets the plain loss is the mean squared noise: about 1
    assert 0.7 < float(plain) < 1.3


def test_dropout_matches_the_samplers_unconditional_branch():
    """p_uncond = 1: every sample gets the empty prompt's embedding, and nothing else changes (the sampler's
    unconditional half keeps controls, previous frame and environment); prev_drop = 1: a first frame."""
    from engine.training.objective import ObjectiveSettings, diffusion_loss

    x = _inputs()
    net = _ZeroNet()
    diffusion_loss(net, _sched(), x, ObjectiveSettings(p_uncond=1.0, prev_drop=0.0, prev_noise=0.0),
                   torch.Generator().manual_seed(1))
    c = net.calls[-1]
    assert torch.equal(c["text"], torch.zeros(2, 3, 16))
    assert torch.equal(c["dense"], x.dense) and torch.equal(c["layout"], x.layout) and torch.equal(c["env"], x.env)
    assert torch.equal(c["context"][:, :4], x.prev_latent) and torch.equal(c["context"][:, 4], torch.ones(2, 4, 48))
    diffusion_loss(net, _sched(), x, ObjectiveSettings(p_uncond=0.0, prev_drop=1.0), torch.Generator().manual_seed(1))
    c = net.calls[-1]
    assert torch.equal(c["text"], x.cond_text)
    assert not c["context"].any()
    # previous-frame noise: std within [0, prev_noise]
    diffusion_loss(net, _sched(), x, ObjectiveSettings(prev_drop=0.0, prev_noise=0.2), torch.Generator().manual_seed(2))
    d = net.calls[-1]["context"][:, :4] - x.prev_latent
    assert 0 < float(d.std()) <= 0.2


def test_cli_run_refuses_bad_input(tiny_model, prepared, tmp_path, capsys):
    cache, _ = prepared
    base = ["train", "run", "--cache", str(cache), "-o", str(tmp_path / "r"), "--steps", "1", "--device", "cpu", "-q"]
    assert main(base + ["--init", str(tiny_model), "--trainable", "everything"]) == 2
    assert "everything" in capsys.readouterr().err
    assert main(base + ["--init", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "run", "--init", str(tiny_model), "--cache", str(tmp_path / "nocache"), "-o",
                 str(tmp_path / "r2"), "--device", "cpu", "-q"]) == 2
    assert "nocache" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_train_with_one_worker_takes_the_same_steps(tiny_model, prepared, tmp_path):
    """`--ray local --num-workers 1` runs the same loop: the same losses as the in-process run."""
    from engine.training.ray_train import train_with_ray
    from engine.training.trainer import train

    cache, _ = prepared
    local = train(_cfg(tiny_model, cache, tmp_path / "local", steps=2), progress=False)
    ray_res = train_with_ray(_cfg(tiny_model, cache, tmp_path / "ray", steps=2), "local", num_workers=1)
    assert ray_res.losses == pytest.approx(local.losses, abs=1e-6)
    assert (tmp_path / "ray" / "final" / "model_index.json").is_file()
