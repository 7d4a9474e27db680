"""MagicDrive (ICLR 2024) as a world-model backend: six-view street scenes from 3-D boxes, a BEV map,
camera poses and a text prompt, with cross-view attention.

A re-implementation on the pinned diffusers of the modules MagicDrive's released checkpoints need
(github.com/cure-lab/MagicDrive, Apache-2.0), with state-dict key names and shapes identical to the
released `unet/` and `controlnet/` weights:

    embedder.py       the NeRF-style Fourier embedder (camera parameters and box corners)
    bbox_embedder.py  boxes (8 corners) + class tokens -> one 768-d token per box
    map_embedder.py   the BEV map (8 x 200 x 200) -> a latent-sized feature map
    controlnet.py     the BEV ControlNet (camera tokens, box tokens, map), SD1.5-shaped encoder
    unet.py           the SD1.5 UNet with a cross-view attention block after each cross-attention
    pipeline.py       classifier-free-guided sampling, one denoising step at a time
    loading.py        strict loading of unet/ and controlnet/ (keys and shapes checked)
    conditions.py     a studio frame -> MagicDrive's conditions (LiDAR frame, 10 classes, 8 map layers)
    folder.py         recognising, checking and converting model folders
    convert.py        `main.py model convert --magicdrive ...`
    backend.py        the `magicdrive` world model
"""
