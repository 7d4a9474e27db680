"""Camera rig and projection: the six nuScenes cameras, ego/agent poses, boxes and map geometry in pixels."""
from engine.rig.camera import Camera
from engine.rig.pose import agent_model_matrix, agent_present, ego_pose, pose_matrix
from engine.rig.projection import ProjectedBox, project_agent_box, project_boxes
from engine.rig.rig import DEFAULT_PREVIEW_SIZE, PANORAMA_ORDER, CameraRig, RigFormatError, panorama_sorted

__all__ = [
    "Camera", "CameraRig", "RigFormatError", "PANORAMA_ORDER", "DEFAULT_PREVIEW_SIZE", "panorama_sorted",
    "ego_pose", "pose_matrix", "agent_present", "agent_model_matrix",
    "ProjectedBox", "project_agent_box", "project_boxes",
]
