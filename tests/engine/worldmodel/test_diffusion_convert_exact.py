"""Converted public checkpoints reproduce diffusers' own StableDiffusionControlNetPipeline exactly.

Tiny seeded checkpoints are written in the public layouts (StableDiffusionPipeline / ControlNetModel
save_pretrained), converted with the product's converter, and the converted pipeline's noise prediction
is compared with the one diffusers computes inside StableDiffusionControlNetPipeline (UNet +
MultiControlNetModel, classifier-free guidance batch), captured with forward hooks.
"""
from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")
H, W = 32, 48


@pytest.fixture(scope="module")
def public_and_converted(tmp_path_factory):
    from engine.worldmodel.diffusion.backend import load_pipeline
    from engine.worldmodel.diffusion.configs import write_public_folders
    from engine.worldmodel.diffusion.convert import convert_public

    root = tmp_path_factory.mktemp("public")
    sd, nets = write_public_folders(root, "tiny", seed=5, controlnets=("depth", "canny"))
    out = convert_public(sd, nets, root / "converted")
    return sd, nets, load_pipeline(out)


def _guidance(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    dense = torch.rand(1, 9, H, W, generator=g)
    dense[:, 4] = (dense[:, 4] > 0.8).float()  # edges are 0 / 1
    return dense


def _reference_run(sd, nets, dense, scales, steps=2, guidance_scale=3.0):
    """Run diffusers' StableDiffusionControlNetPipeline; capture every UNet call (inputs and noise prediction)."""
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    cns = [ControlNetModel.from_pretrained(str(nets[n])) for n in ("depth", "canny")]
    ref = StableDiffusionControlNetPipeline.from_pretrained(str(sd), controlnet=cns, safety_checker=None)
    ref.set_progress_bar_config(disable=True)
    calls = []

    def hook(module, args, kwargs, output):
        calls.append({"sample": args[0].clone(), "t": args[1], "text": kwargs["encoder_hidden_states"].clone(),
                      "pred": output[0].clone()})

    ref.unet.register_forward_hook(hook, with_kwargs=True)
    # the images each public model is fed, built here independently of the product's selectors
    depth_img = dense[:, 0:1].repeat(1, 3, 1, 1)
    canny_img = dense[:, 4:5].repeat(1, 3, 1, 1)
    latents = torch.randn(1, 4, H // 8, W // 8, generator=torch.Generator().manual_seed(11))
    ref(prompt="a truck cuts in. night, rain", image=[depth_img, canny_img], height=H, width=W,
        num_inference_steps=steps, guidance_scale=guidance_scale, controlnet_conditioning_scale=list(scales),
        latents=latents, output_type="latent")
    return calls


def test_converted_noise_prediction_equals_diffusers_controlnet_pipeline(public_and_converted):
    sd, nets, pipe = public_and_converted
    dense = _guidance(1)
    scales = (0.7, 1.3)
    calls = _reference_run(sd, nets, dense, scales)
    assert len(calls) == 2
    cond, uncond = pipe.encode_prompt("a truck cuts in. night, rain", torch.device("cpu"), torch.float32)
    text = torch.cat([uncond, cond])
    images = [im.repeat(2, 1, 1, 1) for im in pipe.control_images(dense)]
    for call in calls:
        assert torch.allclose(call["text"], text, atol=1e-6)
        pred = pipe.predict_noise(call["sample"], call["t"], text, None, images, scales)
        err = (pred - call["pred"]).abs().max().item()
        assert err < 1e-5, err
        assert call["pred"].abs().max().item() > 1e-2  # a non-trivial prediction


def test_extra_inputs_are_zero_initialised_and_wired(public_and_converted):
    """At conversion the previous-frame latent, the flag and the environment change nothing; once their
    weights move (as training moves them) they do: they really are inputs."""
    _, _, pipe = public_and_converted
    g = torch.Generator().manual_seed(2)
    sample = torch.randn(2, 4, H // 8, W // 8, generator=g)
    text = torch.randn(2, 3, pipe.unet.config.cross_attention_dim, generator=g)
    images = pipe.control_images(_guidance(3).repeat(2, 1, 1, 1))
    context = torch.cat([torch.randn(2, 4, H // 8, W // 8, generator=g), torch.ones(2, 1, H // 8, W // 8)], dim=1)
    env = torch.zeros(2, 7)
    env[:, 2] = env[:, 4] = 1.0
    base = pipe.predict_noise(sample, 500, text, None, images)
    with_extras = pipe.predict_noise(sample, 500, text, context, images, env=env)
    assert torch.equal(base, with_extras)
    unet = pipe.unet
    with torch.no_grad():
        saved = (unet.conv_in.weight.clone(), unet.class_embedding.linear_2.weight.clone())
        unet.conv_in.weight[:, 4:] += 0.05
        moved_ctx = pipe.predict_noise(sample, 500, text, context, images)
        unet.conv_in.weight.copy_(saved[0])
        unet.class_embedding.linear_2.weight += 0.05
        moved_env = pipe.predict_noise(sample, 500, text, None, images, env=env)
        unet.class_embedding.linear_2.weight.copy_(saved[1])
    assert (moved_ctx - base).abs().max() > 1e-4
    assert (moved_env - base).abs().max() > 1e-4


def test_per_controlnet_scales_match_diffusers_multicontrolnet(public_and_converted):
    """Scale 0 on one net equals diffusers with that net alone (MultiControlNet sums scaled residuals)."""
    from diffusers import ControlNetModel

    sd, nets, pipe = public_and_converted
    dense = _guidance(4)
    g = torch.Generator().manual_seed(9)
    sample = torch.randn(1, 4, H // 8, W // 8, generator=g)
    text = torch.randn(1, 3, pipe.unet.config.cross_attention_dim, generator=g)
    images = pipe.control_images(dense)
    only_depth = pipe.predict_noise(sample, 300, text, None, images, scales=[0.9, 0.0])
    depth_net = ControlNetModel.from_pretrained(str(nets["depth"]))
    down, mid = depth_net(sample, 300, encoder_hidden_states=text, controlnet_cond=dense[:, 0:1].repeat(1, 3, 1, 1),
                          conditioning_scale=0.9, return_dict=False)
    from diffusers import UNet2DConditionModel

    public_unet = UNet2DConditionModel.from_pretrained(str(sd / "unet"))
    ref = public_unet(sample, 300, encoder_hidden_states=text, down_block_additional_residuals=down,
                      mid_block_additional_residual=mid, return_dict=False)[0]
    assert (only_depth - ref).abs().max().item() < 1e-5
    both = pipe.predict_noise(sample, 300, text, None, images, scales=[0.9, 1.0])
    assert (both - ref).abs().max().item() > 1e-4


def test_added_layout_controlnet_starts_at_zero(public_and_converted):
    """`model convert --layout` adds a layout ControlNet copied from the UNet with zero output convolutions:
    with any layout input the prediction is still the public models' one."""
    from engine.worldmodel.diffusion.convert import assemble, load_public

    sd, nets, pipe = public_and_converted
    with_layout = assemble(load_public(sd, {"depth": nets["depth"], "canny": nets["canny"]}), layout=True)
    g = torch.Generator().manual_seed(4)
    sample = torch.randn(1, 4, H // 8, W // 8, generator=g)
    text = torch.randn(1, 3, pipe.unet.config.cross_attention_dim, generator=g)
    images = pipe.control_images(_guidance(6))
    layout = torch.rand(1, 16, H, W, generator=g)
    a = pipe.predict_noise(sample, 700, text, None, images)
    b = with_layout.predict_noise(sample, 700, text, None, images, layout=layout, layout_scale=1.0)
    assert (a - b).abs().max().item() < 1e-6
    assert with_layout.layout_controlnet.config.conditioning_channels == 16
