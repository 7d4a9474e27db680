"""Scenario model (agents, trajectories, road map, environment) and its JSON file format."""
from engine.scenario.model import (
    EGO_ID,
    Agent,
    Environment,
    Intent,
    Scenario,
    SceneSource,
)
from engine.scenario.map_elements import Crossing, Lane, Polyline, RoadMap
from engine.scenario.trajectory import Trajectory, TrajectorySample, Waypoint

__all__ = [
    "EGO_ID", "Agent", "Environment", "Intent", "Scenario", "SceneSource",
    "Crossing", "Lane", "Polyline", "RoadMap",
    "Trajectory", "TrajectorySample", "Waypoint",
]
