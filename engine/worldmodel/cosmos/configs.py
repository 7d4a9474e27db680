"""Seeded tiny Cosmos-Transfer2.5 pipelines from configs (the same architecture as the public model, tiny
widths; nothing downloaded: the Qwen2 tokenizer is a byte-level vocabulary built here)."""
from __future__ import annotations

from pathlib import Path


def byte_level_qwen_tokenizer():
    """A Qwen2Tokenizer over single bytes with a minimal chat template (no files needed)."""
    from transformers import Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        vocab[t] = len(vocab)
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token=None, bos_token=None, eos_token="<|im_end|>",
                         pad_token="<|endoftext|>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
                         "{{ c['text'] }}{% endfor %}<|im_end|>\n{% endfor %}")
    return tok


def build_tiny_cosmos(seed: int = 0, safety_checker=None):
    """A Cosmos2_5_TransferPipeline with tiny seeded random weights (float32, CPU).

    safety_checker: passed through (the pipeline refuses to run without one)."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        Cosmos2_5_TransferPipeline,
        CosmosControlNetModel,
        CosmosTransformer3DModel,
        UniPCMultistepScheduler,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

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
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "rope_theta": 1000000.0,
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        hidden_size=16, vocab_size=512, vision_end_token_id=260, vision_start_token_id=259, vision_token_id=261)
    text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    return Cosmos2_5_TransferPipeline(text_encoder=text_encoder, tokenizer=byte_level_qwen_tokenizer(),
                                      transformer=transformer.eval(), vae=vae.eval(),
                                      scheduler=UniPCMultistepScheduler(), controlnet=controlnet.eval(),
                                      safety_checker=safety_checker)


class ApprovingSafetyChecker:
    """A stand-in guardrail that approves everything: ONLY for tests of the tiny random pipeline (random
    weights cannot make unsafe pictures). The product never constructs it; see folder.load_guardrail."""

    def check_text_safety(self, prompt: str) -> bool:
        return True

    def check_video_safety(self, video):
        return video

    def to(self, *args, **kwargs):
        return self


def write_tiny_cosmos(path, seed: int = 0) -> Path:
    """Save a tiny Cosmos folder (no guardrail folder: the product refuses to run it without one)."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    pipe = build_tiny_cosmos(seed, safety_checker=ApprovingSafetyChecker())
    pipe.safety_checker = None
    pipe.register_to_config(safety_checker=(None, None))
    pipe.save_pretrained(str(path), safe_serialization=True)
    return Path(path)
