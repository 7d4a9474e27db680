"""Training the diffusion world model on nuScenes-format logs (Dream4Drive recipe): prepare, run, eval."""
