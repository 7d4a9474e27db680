"""Seeded tiny Cosmos-Transfer2.5 pipelines from configs (the same architecture as the public model, tiny
widths; nothing downloaded: the Qwen2 tokenizer is a byte-level vocabulary built here)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    # the classes themselves, not diffusers' / transformers' lazy top-level aliases
    from diffusers.pipelines.cosmos.pipeline_cosmos2_5_transfer import Cosmos2_5_TransferPipeline
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    from engine.worldmodel.cosmos.folder import SafetyChecker

_Video = TypeVar("_Video")


def byte_level_qwen_tokenizer() -> Qwen2Tokenizer:
    """A Qwen2Tokenizer over single bytes with a minimal chat template (no files needed)."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    byte_chars: dict[int, str] = bytes_to_unicode()  # type: ignore[no-untyped-call]  # transformers: unannotated
    vocab = {ch: i for i, ch in enumerate(byte_chars.values())}
    for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        vocab[t] = len(vocab)
    # no unknown token (every byte is in the vocabulary)
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token=None,  # type: ignore[arg-type]  # hinted str, takes None
                         bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
                         "{{ c['text'] }}{% endfor %}<|im_end|>\n{% endfor %}")
    return tok


def build_tiny_cosmos(seed: int = 0, safety_checker: SafetyChecker | None = None) -> Cosmos2_5_TransferPipeline:
    """A Cosmos2_5_TransferPipeline with tiny seeded random weights (float32, CPU).

    safety_checker: passed through (the pipeline refuses to run without one)."""
    import torch
    from diffusers.models.autoencoders.autoencoder_kl_wan import AutoencoderKLWan
    from diffusers.models.controlnets.controlnet_cosmos import CosmosControlNetModel
    from diffusers.models.transformers.transformer_cosmos import CosmosTransformer3DModel
    from diffusers.pipelines.cosmos.pipeline_cosmos2_5_transfer import Cosmos2_5_TransferPipeline
    from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler
    from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(seed)
    common = dict(num_attention_heads=2, attention_head_dim=16, mlp_ratio=2, text_embed_dim=32, adaln_lora_dim=4,
                  patch_size=(1, 2, 2), max_size=(4, 32, 32), rope_scale=(2.0, 1.0, 1.0),
                  extra_pos_embed_type="learnable", img_context_dim_in=32, img_context_dim_out=32)
    transformer = CosmosTransformer3DModel(in_channels=17, out_channels=16, num_layers=2, concat_padding_mask=True,
                                           controlnet_block_every_n=1, img_context_num_tokens=4, **common)
    controlnet = CosmosControlNetModel(n_controlnet_blocks=2, in_channels=18, latent_channels=18, model_channels=32,
                                       use_crossattn_projection=False, **common)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    # transformers 5's dataclass configs take the flat Hub fields (hidden_size, ...) through **kwargs
    config = Qwen2_5_VLConfig(  # type: ignore[call-arg]  # extra fields go through **kwargs the hints do not show
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "rope_theta": 1000000.0,
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        hidden_size=16, vocab_size=512, vision_end_token_id=260, vision_start_token_id=259, vision_token_id=261)
    text_encoder = Qwen2_5_VLForConditionalGeneration(config)
    text_encoder.eval()  # type: ignore[no-untyped-call]  # transformers' PreTrainedModel.eval is unannotated
    tok = byte_level_qwen_tokenizer()
    return Cosmos2_5_TransferPipeline(text_encoder=text_encoder, tokenizer=tok,  # type: ignore[arg-type]  # hinted AutoTokenizer
                                      transformer=transformer.eval(), vae=vae.eval(),
                                      scheduler=UniPCMultistepScheduler(), controlnet=controlnet.eval(),
                                      safety_checker=safety_checker)


class ApprovingSafetyChecker:
    """A stand-in guardrail that approves everything: ONLY for tests of the tiny random pipeline (random
    weights cannot make unsafe pictures). The product never constructs it; see folder.load_guardrail.
    The methods are the guardrail interface diffusers' Cosmos pipeline calls."""

    def check_text_safety(self, prompt: str) -> bool:
        return True

    def check_video_safety(self, video: _Video) -> _Video:
        return video

    def to(self, *args: Any, **kwargs: Any) -> ApprovingSafetyChecker:
        return self


def write_tiny_cosmos(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """Save a tiny Cosmos folder (no guardrail folder: the product refuses to run it without one)."""
    from engine.worldmodel.cosmos.backend import quiet_loading

    quiet_loading()
    pipe = build_tiny_cosmos(seed, safety_checker=ApprovingSafetyChecker())
    pipe.safety_checker = None
    pipe.register_to_config(safety_checker=(None, None))  # type: ignore[no-untyped-call]  # diffusers: unannotated
    pipe.save_pretrained(str(path), safe_serialization=True)
    return Path(path)
