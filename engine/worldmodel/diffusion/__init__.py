"""The diffusion world model (format 2, docs/world_model_diffusion.md): Stable Diffusion 1.x + N stock
ControlNets fed by channel selectors from the guidance stack, with zero-initialised previous-frame and
environment inputs, over one six-view panorama latent; `DiffusionBackend` feeds it a scenario's conditions.

    from engine.worldmodel.diffusion.convert import convert_public     # public checkpoints -> folder
    convert_public(sd_dir, {"depth": cn_depth, "canny": cn_canny}, out_dir)
    from engine.worldmodel.diffusion.configs import write_pipeline_folder
    write_pipeline_folder(folder, "tiny", seed=0)                        # seeded random weights
    backend = DiffusionBackend(folder, controlnet_scales={"depth": 0.8}) # loads lazily, never downloads
"""
