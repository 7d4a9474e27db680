"""The `cosmos` world model: NVIDIA Cosmos-Transfer2.5 (diffusers' Cosmos2_5_TransferPipeline +
CosmosControlNetModel) from a local folder, one camera at a time, with the product's depth / edge /
segmentation maps as the control video. The licence's guardrail is used when present locally; without
it the backend refuses (folder.py says what is missing).
"""
