"""Moved to `engine.conditions.rendered` (use `engine.conditions.clip_conditions`); kept so imports keep working."""
from engine.conditions.rendered import *  # noqa: F401,F403
from engine.conditions.rendered import (  # noqa: F401
    LAMP_HEIGHT, LAMP_OFFSET, LAMP_RANGE, LAMP_SPACING, BackgroundSource, agent_states, conditions_for_scenario,
    frames_with_maps, street_lamp_positions,
)
