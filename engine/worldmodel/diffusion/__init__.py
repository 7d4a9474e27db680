"""The diffusion world model: a diffusers `WorldModelPipeline` (VAE, UNet with temporal input channels,
ControlNets over the guidance and layout channels, scheduler, optional CLIP text encoder) over one
six-view panorama latent, and the `DiffusionBackend` that feeds it a scenario's conditions.

    from engine.worldmodel.diffusion.configs import build_pipeline   # seeded random weights
    build_pipeline("tiny", seed=0).save_pretrained(folder)
    backend = DiffusionBackend(folder)                               # loads lazily, never downloads
"""
